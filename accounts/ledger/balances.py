"""Balances now and as of a moment: one builder for every read.

A balance as of a moment is the ``balance_after`` of the account's newest leg at or before it
(one probe of the (account, created_at) index), or, for an account with back-dated legs, whose
running balances are not in date order, the sum of its legs up to then. :func:`balance_as_of`
states that once, as an ORM expression; everything else uses it:

- querysets and reports annotate with it (:meth:`AccountQuerySet.with_balances
  <accounts.managers.AccountQuerySet.with_balances>`, the trial balance, the balance sheet);
- a single account's read (:meth:`Account.get_balance <accounts.models.Account.get_balance>`)
  runs the same expression compiled once per database (:class:`OwnBalanceRead`): building it
  through the ORM costs ten times as long as running it.

The expressions are built over the models found through Django's app registry, so this module
imports no model: the models call it for their balance methods without an import cycle.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import connections, models, router
from django.db.models import Case, Exists, F, Func, OuterRef, Subquery, Sum, Value, When
from django.db.models.expressions import Col
from django.db.models.functions import Coalesce

from ..fields import money_field
from ..money import Balance
from ..vocabulary import normal_sign_expression


def _account_model() -> Any:
    return apps.get_model("accounts", "Account")


def _leg_model() -> Any:
    return apps.get_model("accounts", "Transaction")


# -- the builder ---------------------------------------------------------------------------------


def ungrouped(function: str, field: str, output_field: models.Field[Any, Any]) -> Func:
    """``function(field)`` over a whole subquery, with no ``GROUP BY``.

    Django groups by the selected columns when a queryset is annotated with an aggregate; a
    plain function call in ``.values()`` is not an aggregate to Django, so the subquery stays
    ``SELECT MAX(col) FROM ... WHERE ...``, the form every backend answers from an index.
    """
    return Func(F(field), function=function, output_field=output_field)


def balance_as_of(as_of: datetime.datetime) -> Case:
    """Balance of ``OuterRef('pk')`` at ``as_of`` (NULL before its first leg), for annotating
    an Account queryset. The one statement of the as-of rule.

    Normally the ``balance_after`` of the account's last leg at or before ``as_of``: one
    indexed lookup. An account that has back-dated legs has running balances that are not in
    date order, so its balance is the sum of its legs up to ``as_of`` instead.
    """
    leg_model = _leg_model()
    legs = leg_model.objects.filter(account=OuterRef("pk")).order_by()
    # MAX() with no GROUP BY is one probe at the end of the (account, created_at) index on
    # every backend. A grouped MAX() made PostgreSQL and MariaDB read every leg up to
    # ``as_of``; ordering the range and taking the first row made MariaDB walk every leg
    # newer than ``as_of``.
    newest_at = (
        leg_model.objects.filter(account=OuterRef(OuterRef("pk")), created_at__lte=as_of)
        .order_by()
        .values(newest=ungrouped("MAX", "created_at", models.DateTimeField()))[:1]
    )  # one row anyway; Django 6 refuses an exact lookup on an unsliced subquery
    last = (
        legs.filter(created_at=Subquery(newest_at))
        .order_by("-account_version")
        .values("balance_after")[:1]
    )
    summed = legs.filter(created_at__lte=as_of).values(
        total=ungrouped("SUM", "amount", money_field())
    )
    return Case(
        When(
            Exists(legs.backdated()),
            then=Subquery(summed, output_field=money_field()) * normal_sign_expression(),
        ),
        default=Subquery(last, output_field=money_field()),
        output_field=money_field(),
    )


def balance_as_of_or_zero(as_of: datetime.datetime) -> Coalesce:
    """:func:`balance_as_of`, with 0 for an account that had no legs by then."""
    return Coalesce(balance_as_of(as_of), Value(Decimal(0)), output_field=money_field())


def has_children() -> Exists:
    """Whether ``OuterRef('pk')`` has child accounts: one probe of the parent index."""
    return Exists(_account_model().objects.filter(parent=OuterRef("pk")))


def rolled_up(amount: Any) -> Coalesce:
    """Sum of ``amount`` over the subtree of ``OuterRef('pk')`` in its currency, or 0.

    ``amount`` is an expression over the subtree's accounts (their balance, or their balance
    at a moment). The subtree is a prefix match on ``tree_path``.
    """
    subtree = _account_model().objects.filter(
        tree_path__startswith=OuterRef("tree_path"), currency=OuterRef("currency")
    )
    total = (
        subtree.order_by()
        .annotate(_amount=amount)
        .annotate(_group=Value(1))
        .values("_group")
        .annotate(total=Sum("_amount"))
        .values("total")
    )
    return Coalesce(Subquery(total), Value(Decimal(0)), output_field=money_field())


def rolled_up_as_of(as_of: datetime.datetime) -> Case:
    """Balance of ``OuterRef('pk')`` at ``as_of``, rolled up over its subtree when it has one.

    A leaf (no children) reads only its own legs: the roll-up's prefix match on ``tree_path``
    is not an index range on MariaDB (``LIKE BINARY``) or SQLite (case-insensitive ``LIKE``),
    and would scan the accounts table for every read. The children check is one probe of the
    parent index, in the same query.
    """
    return Case(
        When(has_children(), then=rolled_up(balance_as_of_or_zero(as_of))),
        default=balance_as_of_or_zero(as_of),
        output_field=money_field(),
    )


# -- one account's read --------------------------------------------------------------------------


def converters(connection: Any, model: Any, fields: Sequence[models.Field[Any, Any]]) -> list[Any]:
    """Per field, what turns a database value into the Python value, as the ORM would."""
    result = []
    for field in fields:
        column = Col(model._meta.db_table, field)
        found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        result.append((column, found))
    return result


def convert(connection: Any, converters: list[Any], row: Sequence[Any]) -> list[Any]:
    """Apply :func:`converters` to one row of raw values."""
    values = list(row)
    for index, (column, functions) in enumerate(converters):
        for function in functions:
            values[index] = function(values[index], column, connection)
    return values


#: Stand-ins compiled into :class:`OwnBalanceRead`'s SQL and replaced by the real key and
#: moment on each read. No real key is negative; the moment is before any posting date.
_KEY_STAND_IN = -987_654_321_012
_MOMENT_STAND_IN = datetime.datetime(1901, 2, 3, 4, 5, 6, 789012)


class OwnBalanceRead:
    """:func:`balance_as_of` for one account, with whether it has children and its currency,
    compiled once for a database and run as one query per read.

    The ORM compiles the queryset with stand-in values for the key and the moment; each read
    swaps the real ones in at the same positions, prepared by the same fields.
    """

    def __init__(self, alias: str) -> None:
        connection = connections[alias]
        account = _account_model()
        self.moment_field = _leg_model()._meta.get_field("created_at")
        stand_in = _MOMENT_STAND_IN
        if settings.USE_TZ:
            stand_in = stand_in.replace(tzinfo=datetime.timezone.utc)
        queryset = (
            account._default_manager.using(alias)
            .filter(pk=_KEY_STAND_IN)
            .order_by()
            .annotate(_children=has_children(), _own=balance_as_of(stand_in))
            .values_list("_children", "currency", "_own")
        )
        self.sql, params = queryset.query.get_compiler(using=alias).as_sql()
        self.params = list(params)
        moment = self.moment_field.get_db_prep_value(stand_in, connection)
        self.key_at = [i for i, p in enumerate(params) if type(p) is int and p == _KEY_STAND_IN]
        self.moment_at = [
            i for i, p in enumerate(params) if type(p) is type(moment) and p == moment
        ]
        if len(self.key_at) != 1 or not self.moment_at:
            raise RuntimeError(f"cannot place the key and moment in: {self.sql}")
        self.money = converters(connection, account, [account._meta.get_field("balance")])

    def run(self, connection: Any, pk: Any, as_of: datetime.datetime) -> Any:
        """``(has_children, currency, balance or None)``, or None when there is no ``pk``."""
        params = list(self.params)
        params[self.key_at[0]] = pk
        moment = self.moment_field.get_db_prep_value(as_of, connection)
        for index in self.moment_at:
            params[index] = moment
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            row = cursor.fetchone()
        if row is None:
            return None
        (amount,) = convert(connection, self.money, [row[2]])
        return bool(row[0]), row[1], amount


_READS: dict[tuple[str, str], OwnBalanceRead] = {}


def own_balance_as_of(account: Any, as_of: datetime.datetime) -> Any:
    """Whether ``account`` has children, its currency, and its own balance at ``as_of``.

    One query, reading only this account's legs: the children check is one probe of the
    parent index, the balance one or two probes of the legs' indexes. None if the account
    is gone.
    """
    alias = router.db_for_read(type(account), instance=account)
    connection = connections[alias]
    key = (alias, connection.vendor)
    read = _READS.get(key)
    if read is None:
        read = _READS[key] = OwnBalanceRead(alias)
    return read.run(connection, account.pk, as_of)


# -- the balance methods of an account -----------------------------------------------------------


def balance_of(account: Any, as_of: datetime.datetime | None = None) -> Decimal:
    """:meth:`Account.get_balance <accounts.models.Account.get_balance>`."""
    if account.pk is None:
        return account.balance
    subtree = (
        type(account)
        .objects.filter(tree_path__startswith=account.tree_path, currency=account.currency)
        .order_by()
    )
    if as_of is None:
        if not account.is_placeholder():
            return account.balance
        total = subtree.aggregate(total=Sum("balance"))["total"]
    else:
        own = own_balance_as_of(account, as_of)
        if own is None or own[0]:
            past = balance_as_of_or_zero(as_of)
            total = subtree.annotate(_past=past).aggregate(total=Sum("_past"))["total"]
        else:
            total = own[2]
    return total if total is not None else Decimal(0)


def balances_of(account: Any, as_of: datetime.datetime | None = None) -> Balance:
    """:meth:`Account.get_balances <accounts.models.Account.get_balances>`."""
    if account.pk is None:
        return Balance({account.currency: account.balance})
    if as_of is not None:
        own = own_balance_as_of(account, as_of)
        if own is not None and not own[0]:
            return Balance({own[1]: own[2] if own[2] is not None else Decimal(0)})
    subtree = type(account).objects.filter(tree_path__startswith=account.tree_path)
    rows: Any
    if as_of is not None:
        rows = subtree.annotate(_b=balance_as_of_or_zero(as_of)).values_list("currency", "_b")
    else:
        rows = subtree.values_list("currency", "balance")
    result = Balance()
    for currency, amount in rows:
        result += Balance({currency: amount})
    return result
