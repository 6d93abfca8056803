"""The SQL of a posting, written once per database and sent through Django's own cursor.

A posting is a fixed lock and three fixed writes (insert the transfer, insert its legs, move the
balances). Building them through the ORM costs several milliseconds of Python per posting, more
than the database spends running them, so :mod:`accounts.facade` sends them as plain SQL instead.
The text depends only on the database vendor and on how many rows are involved, so it is built
once and cached; values always travel as parameters.

Where the vendor allows it (PostgreSQL), the three writes are one statement: a ``WITH`` holding
both INSERTs and the UPDATE, written in :mod:`accounts.ledger.sql.postgresql`. That is two round
trips fewer while the accounts are locked, which is what limits postings drawing on one busy
account. MariaDB and SQLite cannot put an INSERT inside ``WITH``, so they get three statements
through one cursor (each vendor's module says which with ``WRITES_IN_ONE_STATEMENT``).

The statements still go through Django's connection (``connection.cursor()``): they join the
caller's transaction and savepoints, Django's error wrapping and query logging see them, and
database routers have already chosen the connection. Values go through each field's own
``get_db_prep_save`` on the way in and its converters on the way out, exactly as the ORM does.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Field
from django.db.models.signals import post_save, pre_save

from ..models import Account, Transaction, Transfer
from .balances import convert, converters
from .sql import mysql, postgresql, sqlite

Converter = Callable[[Any, Any, Any], Any]

#: Columns of a leg, in the order the facade gives their values.
LEG_FIELDS = (
    "transfer",
    "leg_index",
    "account",
    "amount",
    "currency",
    "balance_after",
    "account_version",
    "created_at",
    "backdated",
)
#: The leg columns whose values need their field's ``get_db_prep_save``.
LEG_FIELDS_PREPARED = frozenset({"amount", "balance_after", "created_at", "backdated"})
#: Transfer columns whose values the facade makes itself, as plain integers and strings (codes,
#: kinds, keys of saved rows, counts); the others, money, times and what the caller passed in,
#: go through their fields' preparation.
TRANSFER_FIELDS_PLAIN = frozenset(
    {
        "reference",
        "kind",
        "source",
        "destination",
        "currency",
        "leg_count",
        "parent",
        "reverses",
        "username",
    }
)


@dataclass(frozen=True)
class LockFacts:
    """What the lock query read about a locked account besides its row."""

    #: Whether the account has children (a placeholder takes no legs).
    has_children: bool
    #: When the account's newest leg is dated; None when it has none, or the lock did not ask.
    last_leg_at: datetime.datetime | None
    #: Whether the account has secondary users; None when the lock was taken without a user.
    has_secondary_users: bool | None
    #: Whether the lock's user is one of them; None when the lock was taken without a user.
    user_is_secondary: bool | None


class LockedAccounts(dict[int, Account]):
    """Freshly locked accounts by primary key, with the :class:`LockFacts` of each."""

    def __init__(self) -> None:
        super().__init__()
        self.facts: dict[int, LockFacts] = {}

    def facts_of(self, account: Account) -> LockFacts:
        return self.facts[account.pk]


class PostingSql:
    """The posting statements for one database connection's vendor."""

    def __init__(self, connection: Any) -> None:
        self.vendor = connection.vendor
        qn = connection.ops.quote_name
        self.qn = qn
        account_meta = Account._meta
        self.account_table = qn(account_meta.db_table)
        self.account_fields: list[Field[Any, Any]] = list(account_meta.concrete_fields)
        self.account_attnames = [f.attname for f in self.account_fields]
        self.account_converters = converters(connection, Account, self.account_fields)
        leg_created = Transaction._meta.get_field("created_at")
        self.leg_time_field = leg_created
        self.leg_time_converters = converters(connection, Transaction, [leg_created])
        self.for_update = ""
        if connection.features.has_select_for_update:
            self.for_update = " " + connection.ops.for_update_sql()
        through = Account.secondary_users.through
        self.through_table = qn(through._meta.db_table)
        self.through_account = qn(through._meta.get_field("account").column)
        self.through_user = qn(through._meta.get_field("user").column)
        self.leg_table = qn(Transaction._meta.db_table)
        self.leg_fields: list[Any] = [Transaction._meta.get_field(name) for name in LEG_FIELDS]
        # Keys and counters the facade computed are plain integers and the currency a plain
        # string; money, times and flags go through their fields' preparation.
        self.leg_prepared = [
            (index, field)
            for index, field in enumerate(self.leg_fields)
            if field.name in LEG_FIELDS_PREPARED
        ]
        self.balance_field = Account._meta.get_field("balance")
        self.transfer_table = qn(Transfer._meta.db_table)
        self.transfer_fields = [f for f in Transfer._meta.concrete_fields if not f.primary_key]
        self.transfer_prepared = [f.name not in TRANSFER_FIELDS_PLAIN for f in self.transfer_fields]
        self.returning = connection.features.can_return_columns_from_insert
        self.transfer_pk = Transfer._meta.pk
        self.transfer_sql = (
            f"INSERT INTO {self.transfer_table} "
            f"({', '.join(qn(f.column) for f in self.transfer_fields)}) "
            f"VALUES ({', '.join(['%s'] * len(self.transfer_fields))})"
        )
        if self.returning:
            self.transfer_sql += f" RETURNING {qn(self.transfer_pk.column)}"
        vendor = _VENDORS.get(connection.vendor)
        self.one_statement = bool(vendor and vendor.WRITES_IN_ONE_STATEMENT)
        self.leg_casts = [f.db_type(connection) for f in self.leg_fields[1:]]

    # -- the lock ------------------------------------------------------------------------------

    @functools.lru_cache(maxsize=64)  # noqa: B019 - one instance per vendor, kept for good
    def lock_sql(self, count: int, last_leg_at: bool, any_user: bool, user_pk: bool) -> str:
        """Lock ``count`` accounts by primary key, in key order, with what the checks need.

        Besides the account's own columns: whether it has children (placeholders take no legs),
        when its newest leg was dated, and whether it has secondary users and the acting user
        is one of them.
        """
        qn = self.qn
        pk = qn(Account._meta.pk.column)
        parent = qn(Account._meta.get_field("parent").column)
        columns = ", ".join(f"a.{qn(f.column)}" for f in self.account_fields)
        extras = [
            f"EXISTS (SELECT 1 FROM {self.account_table} c WHERE c.{parent} = a.{pk})",
        ]
        if last_leg_at:
            leg_account = qn(Transaction._meta.get_field("account").column)
            leg_version = qn(Transaction._meta.get_field("account_version").column)
            leg_time = qn(Transaction._meta.get_field("created_at").column)
            extras.append(
                f"(SELECT l.{leg_time} FROM {self.leg_table} l WHERE l.{leg_account} = a.{pk} "
                f"ORDER BY l.{leg_version} DESC LIMIT 1)"
            )
        if any_user:
            extras.append(
                f"EXISTS (SELECT 1 FROM {self.through_table} s "
                f"WHERE s.{self.through_account} = a.{pk})"
            )
        if user_pk:
            extras.append(
                f"EXISTS (SELECT 1 FROM {self.through_table} u "
                f"WHERE u.{self.through_account} = a.{pk} AND u.{self.through_user} = %s)"
            )
        placeholders = ", ".join(["%s"] * count)
        return (
            f"SELECT {columns}, {', '.join(extras)} FROM {self.account_table} a "
            f"WHERE a.{pk} IN ({placeholders}) ORDER BY a.{pk}{self.for_update}"
        )

    def lock(
        self, connection: Any, using: str, pks: Sequence[int], *, last_leg_at: bool, user: Any
    ) -> LockedAccounts:
        """Run the lock; return fresh, converted Account instances and their facts by key."""
        user_pk = getattr(user, "pk", None)
        sql = self.lock_sql(len(pks), last_leg_at, user is not None, user_pk is not None)
        params: list[Any] = [user_pk] if user_pk is not None else []
        params.extend(pks)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        width = len(self.account_fields)
        locked = LockedAccounts()
        for row in rows:
            values = convert(connection, self.account_converters, row[:width])
            account = Account.from_db(using, self.account_attnames, values)
            extras = iter(row[width:])
            has_children = bool(next(extras))
            newest = None
            if last_leg_at:
                (newest,) = convert(connection, self.leg_time_converters, [next(extras)])
            has_secondary = is_secondary = None
            if user is not None:
                has_secondary = bool(next(extras))
                # An anonymous user (no key) is nobody's secondary user.
                is_secondary = bool(next(extras)) if user_pk is not None else False
            locked[account.pk] = account
            locked.facts[account.pk] = LockFacts(has_children, newest, has_secondary, is_secondary)
        return locked

    # -- the writes ----------------------------------------------------------------------------

    def write(
        self,
        connection: Any,
        using: str,
        new: Transfer,
        legs: Sequence[list[Any]],
        new_state: dict[int, tuple[Any, int]],
    ) -> None:
        """Insert ``new`` and its legs and move the balances.

        On PostgreSQL that is one statement (:meth:`posting_sql`); elsewhere three, through one
        cursor.

        ``new`` gets its primary key, as ``save()`` would give it, and ``pre_save`` and
        ``post_save`` are sent for it when anything listens. Each leg is a list of the values of
        :data:`LEG_FIELDS`, its first (the transfer) still unset; ``new_state`` maps each
        account's primary key to its new balance and version.
        """
        if pre_save.has_listeners(Transfer):
            pre_save.send(sender=Transfer, instance=new, raw=False, using=using, update_fields=None)
        transfer_params = [
            f.get_db_prep_save(getattr(new, f.attname), connection)
            if prepare
            else getattr(new, f.attname)
            for f, prepare in zip(self.transfer_fields, self.transfer_prepared)
        ]
        prepared = self.leg_prepared
        for leg in legs:
            for index, field in prepared:
                leg[index] = field.get_db_prep_save(leg[index], connection)
        balances: list[Any] = []
        versions: list[Any] = []
        balance_field = self.balance_field
        for account_pk, (balance, version) in new_state.items():
            balances += [account_pk, balance_field.get_db_prep_save(balance, connection)]
            versions += [account_pk, version]
        balance_params = [*balances, *versions, *new_state]
        if self.one_statement:
            params = transfer_params
            for leg in legs:
                params.extend(leg[1:])
            params.extend(balance_params)
            with connection.cursor() as cursor:
                cursor.execute(self.posting_sql(len(legs), len(new_state)), params)
                self._saved(new, cursor.fetchone()[0], using)
        else:
            self._write_apart(
                connection, using, new, legs, transfer_params, balance_params, len(new_state)
            )
        if post_save.has_listeners(Transfer):
            post_save.send(
                sender=Transfer,
                instance=new,
                created=True,
                update_fields=None,
                raw=False,
                using=using,
            )

    def _saved(self, new: Transfer, pk: Any, using: str) -> None:
        """Give ``new`` its primary key and mark it saved, as ``save()`` would."""
        new.pk = self.transfer_pk.to_python(pk)
        new._state.adding = False
        new._state.db = using

    def _write_apart(
        self,
        connection: Any,
        using: str,
        new: Transfer,
        legs: Sequence[list[Any]],
        transfer_params: list[Any],
        balance_params: list[Any],
        accounts: int,
    ) -> None:
        """The three writes as three statements, where WITH cannot hold an INSERT."""
        with connection.cursor() as cursor:
            cursor.execute(self.transfer_sql, transfer_params)
            if self.returning:
                pk = cursor.fetchone()[0]
            else:
                pk = connection.ops.last_insert_id(
                    cursor, Transfer._meta.db_table, self.transfer_pk.column
                )
            self._saved(new, pk, using)
            leg_params: list[Any] = []
            for leg in legs:
                leg[0] = new.pk
                leg_params.extend(leg)
            cursor.execute(self.legs_sql(len(legs)), leg_params)
            cursor.execute(self.balances_sql(accounts), balance_params)

    @functools.lru_cache(maxsize=64)  # noqa: B019 - one instance per vendor, kept for good
    def posting_sql(self, legs: int, accounts: int) -> str:
        """The three writes as one statement (PostgreSQL's ``posting_statement``)."""
        return postgresql.posting_statement(
            transfer_insert=self.transfer_sql,
            transfer_key=self.qn(self.transfer_pk.column),
            leg_table=self.leg_table,
            leg_columns=[self.qn(f.column) for f in self.leg_fields],
            leg_casts=self.leg_casts,
            legs=legs,
            balances_update=self.balances_sql(accounts),
        )

    @functools.lru_cache(maxsize=64)  # noqa: B019 - one instance per vendor, kept for good
    def legs_sql(self, count: int) -> str:
        columns = ", ".join(self.qn(f.column) for f in self.leg_fields)
        row = "(" + ", ".join(["%s"] * len(self.leg_fields)) + ")"
        return f"INSERT INTO {self.leg_table} ({columns}) VALUES {', '.join([row] * count)}"

    @functools.lru_cache(maxsize=64)  # noqa: B019 - one instance per vendor, kept for good
    def balances_sql(self, count: int) -> str:
        qn = self.qn
        pk = qn(Account._meta.pk.column)
        whens = " ".join(["WHEN %s THEN %s"] * count)
        return (
            f"UPDATE {self.account_table} SET "
            f"{qn('balance')} = CASE {pk} {whens} END, "
            f"{qn('version')} = CASE {pk} {whens} END "
            f"WHERE {pk} IN ({', '.join(['%s'] * count)})"
        )


#: The vendors' SQL modules, by Django's vendor name.
_VENDORS = {"postgresql": postgresql, "mysql": mysql, "sqlite": sqlite}

_CACHE: dict[tuple[str, str], PostingSql] = {}


def for_connection(connection: Any) -> PostingSql:
    """The statements for ``connection``, built on first use per database alias."""
    key = (connection.alias, connection.vendor)
    found = _CACHE.get(key)
    if found is None:
        found = _CACHE[key] = PostingSql(connection)
    return found
