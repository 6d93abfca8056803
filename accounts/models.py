"""The ledger's tables: account types, accounts, transfers and their legs.

Invariants kept here and, independently, by the database (see the ``0002`` migration):

* a leg (:class:`Transaction`) is signed, credit positive and debit negative, and never zero;
* the legs of a transfer sum to zero per currency, and a transfer has at least two legs;
* every leg records the balance of its account after it and the account's version, so the
  balance at any moment is one indexed lookup and the stored ``Account.balance`` can be checked
  against the last leg in O(1);
* an account's ``balance`` is in its kind's natural sign (asset and expense are debit-normal,
  everything else credit-normal) and never falls below ``-credit_limit``;
* transfers and legs are append-only; history is never cascaded away.

Money moves only through :mod:`accounts.facade`; nothing here writes a ledger row.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, connections, models, router, transaction
from django.db.models import Case, Exists, F, Func, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from mptt.managers import TreeManager
from mptt.models import MPTTModel, TreeForeignKey

from . import codes, conf, exceptions, rules
from .compat import check_constraint
from .money import DECIMAL_PLACES, MAX_DIGITS, Balance, format_amount
from .vocabulary import (  # re-exported: users import the vocabulary from here
    CORE_CODE_PREFIX,
    DEBIT_NORMAL_KINDS,
    EXPIRED_CODE,
    KIND_ORDER,
    SALES_CODE,
    SOURCE_CODE,
    AuditAction,
    Kind,
    Status,
    Surface,
    TransferKind,
    kind_choices,
    kind_label,
    kind_rank,
    normal_sign,
    normal_sign_expression,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser


def money_field(**kwargs: Any) -> models.DecimalField:
    return models.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, **kwargs)


class AccountTypeManager(TreeManager):
    def get_by_natural_key(self, code: str) -> AccountType:
        return self.get(code=code)


class AccountType(MPTTModel):
    """A node in a tree of categories (``Gift cards > Promotional``) used to group accounts."""

    name = models.CharField(_("name"), max_length=128)
    code = models.SlugField(_("code"), max_length=64, unique=True)
    description = models.TextField(_("description"), blank=True)
    parent = TreeForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    objects = AccountTypeManager()

    class MPTTMeta:
        order_insertion_by = ["name"]

    class Meta:
        verbose_name = _("account type")
        verbose_name_plural = _("account types")

    def __str__(self) -> str:
        return self.name

    def natural_key(self) -> tuple[str]:
        return (self.code,)


class AccountQuerySet(models.QuerySet["Account"]):
    def active(self, at: datetime.datetime | None = None) -> AccountQuerySet:
        """Open accounts inside their start/end window at ``at`` (default now)."""
        at = at or timezone.now()
        return self.filter(
            Q(start_date__isnull=True) | Q(start_date__lte=at),
            Q(end_date__isnull=True) | Q(end_date__gt=at),
            status=Status.OPEN,
        )

    def expired(self, at: datetime.datetime | None = None) -> AccountQuerySet:
        """Open accounts whose end date has passed at ``at`` (default now)."""
        return self.filter(status=Status.OPEN, end_date__lte=at or timezone.now())

    def with_balances(self, as_of: datetime.datetime | None = None) -> AccountQuerySet:
        """Annotate ``rollup_balance``: the balance of each account and all its descendants.

        Only descendants in the account's own currency are added (amounts in different
        currencies are never summed); use :meth:`Account.get_balances` for the other
        currencies. With ``as_of``, each leaf's balance is read from its last leg at or before
        that moment. Either way it is one query, whatever the number of accounts.
        """
        if as_of is None:
            return self.annotate(rollup_balance=_rollup_subquery(F("balance")))
        return self.annotate(rollup_balance=_balance_as_of_rolled_up(as_of))


def _rollup_subquery(amount: Any) -> Coalesce:
    """Sum of ``amount`` over the subtree of ``OuterRef('pk')`` in its currency, or 0.

    ``amount`` is an expression over the subtree's accounts (their balance, or their balance
    at a moment). The subtree is a prefix match on ``tree_path``.
    """
    subtree = Account.objects.filter(
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


def _balance_as_of_rolled_up(as_of: datetime.datetime) -> Case:
    """Balance of ``OuterRef('pk')`` at ``as_of``, rolled up over its subtree when it has one.

    A leaf (no children) reads only its own legs: the roll-up's prefix match on ``tree_path``
    is not an index range on MariaDB (``LIKE BINARY``) or SQLite (case-insensitive ``LIKE``),
    and would scan the accounts table for every read. The children check is one probe of the
    parent index, in the same query.
    """
    return Case(
        When(
            _has_children(),
            then=_rollup_subquery(_balance_as_of_or_zero(as_of)),
        ),
        default=_balance_as_of_or_zero(as_of),
        output_field=money_field(),
    )


def _has_children() -> Exists:
    """Whether ``OuterRef('pk')`` has child accounts: one probe of the parent index."""
    return Exists(Account.objects.filter(parent=OuterRef("pk")))


def _balance_as_of_or_zero(as_of: datetime.datetime) -> Coalesce:
    """:func:`_balance_as_of_subquery`, with 0 for an account that had no legs by then."""
    return Coalesce(_balance_as_of_subquery(as_of), Value(Decimal(0)), output_field=money_field())


def _ungrouped(function: str, field: str, output_field: models.Field[Any, Any]) -> Func:
    """``function(field)`` over a whole subquery, with no ``GROUP BY``.

    Django groups by the selected columns when a queryset is annotated with an aggregate; a
    plain function call in ``.values()`` is not an aggregate to Django, so the subquery stays
    ``SELECT MAX(col) FROM ... WHERE ...``, the form every backend answers from an index.
    """
    return Func(F(field), function=function, output_field=output_field)


def _balance_as_of_subquery(as_of: datetime.datetime) -> Case:
    """Balance of ``OuterRef('pk')`` at ``as_of``, for annotating an Account queryset.

    Normally the ``balance_after`` of the account's last leg at or before ``as_of``: one
    indexed lookup. An account that has back-dated legs has running balances that are not in
    date order, so its balance is the sum of its legs up to ``as_of`` instead.
    """
    legs = Transaction.objects.filter(account=OuterRef("pk")).order_by()
    upto = legs.filter(created_at__lte=as_of)
    # MAX() with no GROUP BY is one probe at the end of the (account, created_at) index on
    # every backend. A grouped MAX() made PostgreSQL and MariaDB read every leg up to
    # ``as_of``; ordering the range and taking the first row made MariaDB walk every leg
    # newer than ``as_of``.
    newest_at = (
        Transaction.objects.filter(account=OuterRef(OuterRef("pk")), created_at__lte=as_of)
        .order_by()
        .values(newest=_ungrouped("MAX", "created_at", models.DateTimeField()))[:1]
    )  # one row anyway; Django 6 refuses an exact lookup on an unsliced subquery
    last = (
        legs.filter(created_at=Subquery(newest_at))
        .order_by("-account_version")
        .values("balance_after")[:1]
    )
    summed = upto.values(total=_ungrouped("SUM", "amount", money_field()))
    sign = normal_sign_expression()
    backdated = legs.backdated()
    return Case(
        When(
            Exists(backdated),
            then=Subquery(summed, output_field=money_field()) * sign,
        ),
        default=Subquery(last, output_field=money_field()),
        output_field=money_field(),
    )


class AccountManager(models.Manager["Account"]):
    def get_queryset(self) -> AccountQuerySet:
        return AccountQuerySet(self.model, using=self._db)

    def active(self, at: datetime.datetime | None = None) -> AccountQuerySet:
        return self.get_queryset().active(at)

    def expired(self, at: datetime.datetime | None = None) -> AccountQuerySet:
        return self.get_queryset().expired(at)

    def with_balances(self, as_of: datetime.datetime | None = None) -> AccountQuerySet:
        return self.get_queryset().with_balances(as_of)

    def get_by_natural_key(self, code: str) -> Account:
        return self.get(code=code)

    def get_by_code(self, text: str) -> Account:
        """Find an account by a code as a customer might type it (case, spaces, dashes)."""
        return self.get(code=codes.normalise(text))

    # The three core accounts are found by stable code and created on first use.
    def _core(self, code: str, name: str, kind: str, currency: str | None = None) -> Account:
        """The core account ``code``, or its sibling for another ``currency``.

        The core accounts hold the currency that was the default when they were created; money
        in any other currency goes to a sibling coded ``<code>-<currency>``, created on first
        use, because one account never mixes currencies.
        """
        account = self._get_or_create_core(code, name=name, kind=kind)
        if currency is None or currency == account.currency:
            return account
        return self._get_or_create_core(
            f"{code}-{currency}", name=f"{name} {currency}", kind=kind, currency=currency
        )

    def _get_or_create_core(self, code: str, **fields: Any) -> Account:
        try:
            return self.get(code=code)
        except self.model.DoesNotExist:
            try:
                with transaction.atomic():
                    return self.create(code=code, credit_limit=None, **fields)
            except IntegrityError:  # created concurrently
                return self.get(code=code)

    def source(self, currency: str | None = None) -> Account:
        """The asset account money is loaded from (no credit limit)."""
        return self._core(SOURCE_CODE, conf.source_name(), Kind.ASSET, currency)

    def sales(self, currency: str | None = None) -> Account:
        """The income account redemptions are paid into."""
        return self._core(SALES_CODE, conf.sales_name(), Kind.INCOME, currency)

    def expired_account(self, currency: str | None = None) -> Account:
        """The income account that receives what is left in expired accounts."""
        return self._core(EXPIRED_CODE, conf.expired_name(), Kind.INCOME, currency)

    def create_core_accounts(self) -> list[Account]:
        """Create the core accounts, or rename them to follow the settings (run by migrate)."""
        core = [self.source(), self.sales(), self.expired_account()]
        names = [conf.source_name(), conf.sales_name(), conf.expired_name()]
        for account, name in zip(core, names):
            if account.name != name:
                self.filter(pk=account.pk).update(name=name)
                account.name = name
        return core


#: Characters of one level's token in ``Account.tree_path``, and the longest path (about 23
#: levels deep); a deeper tree is refused.
TREE_TOKEN_LENGTH = 10
TREE_PATH_LENGTH_MAX = 255


def new_tree_path() -> str:
    """The tree path of a new root account."""
    return f"/{codes.token(TREE_TOKEN_LENGTH)}/"


#: How many times a clashing generated code is drawn again before giving up.
CODE_RETRIES_MAX = 5


# The two places where models reach up a layer. Each module named imports the models, so the
# models import it only when called, here and nowhere else.


def _facade() -> Any:
    """:mod:`accounts.facade`, for the seed's lifecycle methods (``Account.close`` and friends)."""
    from . import facade

    return facade


def _posting_sql() -> Any:
    """:mod:`accounts.posting_sql`, for ``Account.balance_as_of``'s one fixed query."""
    from . import posting_sql

    return posting_sql


class Account(models.Model):
    """An allocation of money, on one side of the double-entry ledger."""

    name = models.CharField(_("name"), max_length=128, blank=True)
    code = models.CharField(
        _("code"),
        max_length=64,
        unique=True,
        blank=True,
        help_text=_("Unique; generated (unguessable, easy to read aloud) when left blank."),
    )
    description = models.TextField(_("description"), blank=True)
    account_type = models.ForeignKey(
        AccountType,
        verbose_name=_("account type"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accounts",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.LIABILITY)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    #: The account's place in the tree: one random node token per level, root first, ending
    #: with its own (``"/K3M9XD2HT4/P7QW2N5BXR/"``). Its subtree is every account whose path
    #: starts with this one, so a roll-up is one indexed prefix match, with no string building.
    tree_path = models.CharField(
        max_length=TREE_PATH_LENGTH_MAX, default=new_tree_path, editable=False, db_index=True
    )
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.OPEN
    )
    credit_limit = money_field(
        verbose_name=_("credit limit"),
        null=True,
        blank=True,
        default=Decimal("0.00"),
        help_text=_("How far below zero the balance may go; empty means no limit."),
    )
    balance = money_field(verbose_name=_("balance"), default=Decimal("0.00"), editable=False)
    #: Number of legs posted to this account; the version of the last leg.
    version = models.PositiveBigIntegerField(default=0, editable=False)
    currency = models.CharField(_("currency"), max_length=3, default=conf.default_currency)
    start_date = models.DateTimeField(_("start date"), null=True, blank=True)
    end_date = models.DateTimeField(_("end date"), null=True, blank=True)
    primary_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("primary user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="accounts",
    )
    secondary_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("secondary users"),
        blank=True,
        related_name="secondary_accounts",
    )
    #: A card customers hold (gift card, store credit, loyalty card). Only designated cards are
    #: looked up by code, loaded and spent by the surfaces (dashboard, API); the facade itself
    #: serves every account. Set when the card is made, never inferred from kind or code.
    is_card = models.BooleanField(
        _("customer card"),
        default=False,
        help_text=_(
            "A card customers hold: the dashboard and API may load and spend it, and its code "
            "is a secret. Only a liability with a credit limit can be one."
        ),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = AccountManager()

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["pk"]
        permissions = [
            ("spend_from_any_account", "Can spend from any account on behalf of its users"),
            ("view_reports", "Can view ledger reports"),
            ("use_api", "Can use the gift-card JSON API"),
            ("view_card_code", "Can see the full code of customer cards"),
        ]
        constraints = [
            # A card is what customers spend: never a source of money (no limit), never a core
            # account, and on the shop's side of the books a liability.
            check_constraint(
                Q(is_card=False) | (Q(kind="liability") & Q(credit_limit__isnull=False)),
                "accounts_account_card_is_limited_liability",
            ),
            check_constraint(
                Q(is_card=False) | ~Q(code__startswith=CORE_CODE_PREFIX),
                "accounts_account_core_is_not_card",
            ),
            check_constraint(
                Q(credit_limit__isnull=True) | Q(credit_limit__gte=0),
                "accounts_account_credit_limit_not_negative",
            ),
            check_constraint(
                Q(credit_limit__isnull=True) | Q(balance__gte=-F("credit_limit")),
                "accounts_account_within_credit_limit",
            ),
            check_constraint(
                Q(start_date__isnull=True)
                | Q(end_date__isnull=True)
                | Q(end_date__gt=F("start_date")),
                "accounts_account_end_after_start",
            ),
            check_constraint(Q(version__gte=0), "accounts_account_version_not_negative"),
        ]

    def __str__(self) -> str:
        # A card's code is its bearer secret: everything that prints an account (refusals,
        # logs, the admin's history) shows it masked.
        return self.name or self.display_code or gettext("Account #%(id)s") % {"id": self.pk}

    # -- saving ------------------------------------------------------------------------------

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Save descriptive fields; ``balance`` and ``version`` are written only by postings.

        A full save of an existing account leaves ``balance`` and ``version`` out of the UPDATE,
        so a stale instance can never overwrite a newer balance.
        """
        limit = self.credit_limit
        if isinstance(limit, (Decimal, int)) and (limit < 0 or self.balance < -limit):
            # The database refuses it too; this gives the caller the domain error first.
            raise exceptions.InvalidCreditLimit(
                gettext(
                    "Account %(account)s cannot have a credit limit of %(limit)s with a balance "
                    "of %(balance)s; use None (no limit) or at least %(least)s."
                )
                % {
                    "account": self,
                    "limit": limit,  # as the caller gave it
                    "balance": format_amount(self.balance, self.currency),
                    "least": format_amount(max(-self.balance, Decimal(0)), self.currency),
                }
            )
        if self.is_card and (
            self.kind != Kind.LIABILITY or self.credit_limit is None or self.is_core()
        ):
            raise exceptions.InvalidCard(
                gettext(
                    "Account %(account)s cannot be a customer card: a card is a liability with a "
                    "credit limit, and never a core account."
                )
                % {"account": self}
            )
        if self.parent_id is not None and self.parent is not None and self.parent.kind != self.kind:
            raise exceptions.KindMismatch(
                gettext(
                    "Account %(account)s is %(kind)s but its parent %(parent)s is "
                    "%(parent_kind)s; children share their parent's kind."
                )
                % {
                    "account": self,
                    "kind": kind_label(self.kind),
                    "parent": self.parent,
                    "parent_kind": kind_label(self.parent.kind),
                }
            )
        moved_from = self._place_in_tree()
        if not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                f.name
                for f in self._meta.concrete_fields
                if not f.primary_key and f.name not in {"balance", "version", "created_at"}
            ]
        if self.code or not self._state.adding:
            super().save(*args, **kwargs)
            if moved_from:
                self._move_descendants(moved_from)
            return
        for attempt in range(CODE_RETRIES_MAX):
            self.code = codes.generate()
            try:
                with transaction.atomic(using=kwargs.get("using")):
                    super().save(*args, **kwargs)
                return
            except IntegrityError:
                clash = type(self)._default_manager.filter(code=self.code).exists()
                if not clash or attempt == CODE_RETRIES_MAX - 1:
                    raise
                self.code = ""

    def natural_key(self) -> tuple[str]:
        return (self.code,)

    def _place_in_tree(self) -> str | None:
        """Set ``tree_path`` under the parent; return the old path if the account moved."""
        own = (self.tree_path or new_tree_path()).rstrip("/").rsplit("/", 1)[-1]
        if self.parent_id is not None and self.parent is not None:
            if self.parent.tree_path.startswith(self.tree_path) and not self._state.adding:
                raise ValueError(
                    gettext("Account %(account)s cannot be placed under its own descendant.")
                    % {"account": self}
                )
            expected = f"{self.parent.tree_path}{own}/"
        else:
            expected = f"/{own}/"
        if len(expected) > TREE_PATH_LENGTH_MAX:
            raise ValueError(
                gettext("The account tree may be at most %(depth)d levels deep.")
                % {"depth": expected.count("/") - 2}
            )
        old, self.tree_path = self.tree_path, expected
        return old if old != expected and not self._state.adding else None

    def _move_descendants(self, old_path: str) -> None:
        moved = list(Account.objects.filter(tree_path__startswith=old_path).exclude(pk=self.pk))
        for account in moved:
            account.tree_path = self.tree_path + account.tree_path[len(old_path) :]
        Account.objects.bulk_update(moved, ["tree_path"])

    @property
    def depth(self) -> int:
        """0 for a root account, 1 for its children, and so on."""
        return self.tree_path.count("/") - 2

    def is_descendant_of(self, other: Account) -> bool:
        return self.pk != other.pk and self.tree_path.startswith(other.tree_path)

    # -- state -------------------------------------------------------------------------------

    @property
    def display_code(self) -> str:
        """The code as anyone may see it: masked for a customer card, in full otherwise."""
        return codes.mask(self.code) if self.is_card else self.code

    def is_core(self) -> bool:
        """Whether the app made this account for itself (core, sibling or trading account)."""
        return self.code.startswith(CORE_CODE_PREFIX)

    @property
    def normal_sign(self) -> int:
        return normal_sign(self.kind)

    @property
    def is_debit_normal(self) -> bool:
        return self.kind in DEBIT_NORMAL_KINDS

    def is_open(self) -> bool:
        return self.status == Status.OPEN

    def is_frozen(self) -> bool:
        return self.status == Status.FROZEN

    def is_closed(self) -> bool:
        return self.status == Status.CLOSED

    def is_expired(self, at: datetime.datetime | None = None) -> bool:
        return self.end_date is not None and self.end_date <= (at or timezone.now())

    def is_not_yet_active(self, at: datetime.datetime | None = None) -> bool:
        return self.start_date is not None and self.start_date > (at or timezone.now())

    def is_active(self, at: datetime.datetime | None = None) -> bool:
        """Whether money can move through the account now: open and inside its window."""
        at = at or timezone.now()
        return self.is_open() and not self.is_expired(at) and not self.is_not_yet_active(at)

    @property
    def amount_available(self) -> Decimal | None:
        """How far the balance can still fall now: balance plus credit limit (None: no limit).

        Zero while the account cannot be debited at all (frozen, closed, expired or not yet
        started), whatever its balance and limit: nothing is available to spend.
        """
        if not self.is_active():
            return Decimal("0")
        if self.credit_limit is None:
            return None
        return max(self.balance + self.credit_limit, Decimal("0"))

    def is_debit_permitted(self, amount: Decimal) -> bool:
        """Whether debiting ``amount`` keeps the balance within the credit limit.

        A debit lowers a credit-normal balance (a gift card being spent) and raises a
        debit-normal one (an asset receiving money), so only the former can break the limit.
        """
        return rules.within_credit_limit(
            self.balance, self.balance - amount * self.normal_sign, self.credit_limit
        )

    def can_be_authorised_by(self, user: AbstractBaseUser | AnonymousUser | None) -> bool:
        """Whether ``user`` may spend from this account.

        An account without users is spendable by whoever holds it (a gift card's code is the
        authority). Otherwise the user must be its primary user, one of its secondary users,
        or hold the ``accounts.spend_from_any_account`` permission.
        """
        user_pk = getattr(user, "pk", None) if user is not None else None
        if self.pk is None:  # never query the relations of an unsaved account
            return self.primary_user_id is None or (
                user_pk is not None and user_pk == self.primary_user_id
            )

        def is_secondary() -> bool:
            return user_pk is not None and self.secondary_users.filter(pk=user_pk).exists()

        return rules.may_spend(
            user,
            primary_user_id=self.primary_user_id,
            has_secondary_users=self.secondary_users.exists,
            user_is_secondary=is_secondary,
        )

    # -- lifecycle (delegated to the facade, which locks the row) ----------------------------
    # The seed's API has these on the model; they reach the facade through _facade().

    def close(self, *, user: Any = None, reason: str | None = None) -> None:
        """Close the account; refused unless its balance is zero."""
        _facade().close_account(self, user=user, reason=reason)

    def freeze(self, *, user: Any = None, reason: str | None = None) -> None:
        _facade().freeze_account(self, user=user, reason=reason)

    def thaw(self, *, user: Any = None, reason: str | None = None) -> None:
        _facade().thaw_account(self, user=user, reason=reason)

    # -- balances ----------------------------------------------------------------------------

    def is_placeholder(self) -> bool:
        """Whether the account has children (and so only sums them)."""
        return self.pk is not None and self.children.exists()

    def get_balance(self, as_of: datetime.datetime | None = None) -> Decimal:
        """The balance now or ``as_of`` a moment, rolled up over children in this currency.

        A leaf costs at most one query: its stored balance, or its balance at ``as_of`` read
        from its last leg by then (one indexed lookup). A placeholder sums its subtree, a prefix
        match on ``tree_path``: one query now, two as of a moment (the first finds that the
        account has children).
        """
        if self.pk is None:
            return self.balance
        subtree = Account.objects.filter(
            tree_path__startswith=self.tree_path, currency=self.currency
        ).order_by()
        if as_of is None:
            if not self.is_placeholder():
                return self.balance
            total = subtree.aggregate(total=Sum("balance"))["total"]
        else:
            own = self._own_balance_as_of(as_of)
            if own is None or own[0]:
                past = _balance_as_of_or_zero(as_of)
                total = subtree.annotate(_past=past).aggregate(total=Sum("_past"))["total"]
            else:
                total = own[2]
        return total if total is not None else Decimal(0)

    def get_balances(self, as_of: datetime.datetime | None = None) -> Balance:
        """The rolled-up balance in every currency held by this account and its descendants."""
        if self.pk is None:
            return Balance({self.currency: self.balance})
        if as_of is not None:
            own = self._own_balance_as_of(as_of)
            if own is not None and not own[0]:
                return Balance({own[1]: own[2] if own[2] is not None else Decimal(0)})
        subtree = Account.objects.filter(tree_path__startswith=self.tree_path)
        rows: Any
        if as_of is not None:
            subtree = subtree.annotate(_b=_balance_as_of_or_zero(as_of))
            rows = subtree.values_list("currency", "_b")
        else:
            rows = subtree.values_list("currency", "balance")
        result = Balance()
        for currency, amount in rows:
            result += Balance({currency: amount})
        return result

    def _own_balance_as_of(
        self, as_of: datetime.datetime
    ) -> tuple[bool, str, Decimal | None] | None:
        """Whether the account has children, its currency, and its own balance at ``as_of``.

        One query, reading only this account's legs: the children check is one probe of the
        parent index, the balance one or two probes of the legs' indexes. None if the account
        is gone. The query is fixed SQL (:meth:`accounts.posting_sql.PostingSql.balance_as_of`):
        building the same query through the ORM cost ten times as long as running it.
        """
        connection = connections[router.db_for_read(Account, instance=self)]
        return _posting_sql().for_connection(connection).balance_as_of(connection, self.pk, as_of)

    def descendants(self) -> AccountQuerySet:
        return (
            Account.objects.get_queryset()
            .filter(tree_path__startswith=self.tree_path)
            .exclude(pk=self.pk)
        )


#: The predecessor's name for an account.
Budget = Account


class LedgerQuerySet(models.QuerySet[Any]):
    """Ledger rows are append-only: bulk updates and deletes are refused in Python too."""

    def update(self, **kwargs: Any) -> int:
        raise exceptions.LedgerImmutable()

    def delete(self) -> tuple[int, dict[str, int]]:
        raise exceptions.LedgerImmutable()

    update.queryset_only = True  # type: ignore[attr-defined]
    delete.queryset_only = True  # type: ignore[attr-defined]

    def backdated(self) -> LedgerQuerySet:
        """The back-dated legs, found through the (account, backdated) index on every backend.

        ``filter(backdated=True)`` compiles to a bare ``"backdated"`` on SQLite, which its
        planner does not match to the index: it read every leg of the account. Comparing with a
        bound value makes it one probe there too.
        """
        return self.filter(backdated=Value(True, output_field=models.BooleanField()))


class TransferManager(models.Manager["Transfer"]):
    def get_queryset(self) -> LedgerQuerySet:
        return LedgerQuerySet(self.model, using=self._db)

    def get_by_natural_key(self, reference: str) -> Transfer:
        return self.get(reference=reference)

    def get_by_reference(self, text: str) -> Transfer:
        return self.get(reference=codes.normalise(text))


class Transfer(models.Model):
    """One movement of money: a balanced set of legs, written once and never changed."""

    reference = models.CharField(_("reference"), max_length=32, unique=True, editable=False)
    kind = models.CharField(
        _("kind"), max_length=16, choices=TransferKind.choices, default=TransferKind.TRANSFER
    )
    source = models.ForeignKey(
        Account,
        verbose_name=_("source"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="source_transfers",
        help_text=_("The debited account of a two-legged transfer."),
    )
    destination = models.ForeignKey(
        Account,
        verbose_name=_("destination"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="destination_transfers",
        help_text=_("The credited account of a two-legged transfer."),
    )
    #: The total debited (equal to the total credited) in ``currency``.
    amount = money_field(verbose_name=_("amount"))
    currency = models.CharField(_("currency"), max_length=3)
    #: How many legs the transfer has; the database checks the entry when the last one lands.
    leg_count = models.PositiveIntegerField(editable=False)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    #: Set only on a reversal; unique, so the database refuses a second reversal.
    reverses = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversal",
        editable=False,
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="transfers",
    )
    #: The user's name when the transfer was made; survives the user's deletion.
    username = models.CharField(_("username"), max_length=150, blank=True)
    merchant_reference = models.CharField(
        _("merchant reference"), max_length=128, null=True, blank=True, db_index=True
    )
    description = models.TextField(_("description"), blank=True, default="")
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)

    objects = TransferManager()

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        ordering = ["-created_at", "-pk"]
        # Corrections are administrative acts: the surfaces gate them with these (the facade
        # trusts its caller). See docs/installation.rst for the whole permission table.
        permissions = [
            ("reverse_transfer", "Can reverse transfers"),
            ("refund_transfer", "Can refund transfers"),
            ("correct_any_transfer", "Can refund or reverse transfers other API users made"),
        ]
        constraints = [
            check_constraint(Q(amount__gt=0), "accounts_transfer_amount_positive"),
            check_constraint(
                ~Q(source=F("destination")), "accounts_transfer_source_not_destination"
            ),
            check_constraint(Q(leg_count__gte=2), "accounts_transfer_at_least_two_legs"),
        ]

    def __str__(self) -> str:
        return self.reference

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise exceptions.LedgerImmutable()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise exceptions.LedgerImmutable()

    def natural_key(self) -> tuple[str]:
        return (self.reference,)

    @property
    def date_created(self) -> datetime.datetime:
        """The predecessor's name for :attr:`created_at`."""
        return self.created_at

    def is_reversal(self) -> bool:
        return self.kind == TransferKind.REVERSAL


class Transaction(models.Model):
    """One leg of a transfer: a signed amount on one account (credit +, debit -)."""

    # No index of its own: the unique (transfer, leg_index) one below leads with it.
    transfer = models.ForeignKey(
        Transfer,
        verbose_name=_("transfer"),
        on_delete=models.PROTECT,
        related_name="transactions",
        db_index=False,
    )
    #: Position of the leg in its transfer, from 1 to ``transfer.leg_count``.
    leg_index = models.PositiveIntegerField(editable=False)
    # No index of its own: the unique (account, account_version) one below leads with it.
    account = models.ForeignKey(
        Account,
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        related_name="transactions",
        db_index=False,
    )
    amount = money_field(verbose_name=_("amount"))
    currency = models.CharField(_("currency"), max_length=3)
    #: The account's balance (natural sign) right after this leg.
    balance_after = money_field(verbose_name=_("balance after"))
    #: The account's version after this leg: 1 for its first leg, then 2, 3...
    account_version = models.PositiveBigIntegerField(editable=False)
    #: When the leg takes effect: the posting's time, or the earlier date it was back-dated to.
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    #: True when the leg is dated before the account's previous leg. Such accounts answer
    #: as-of questions by summing legs; all others by one lookup of ``balance_after``.
    backdated = models.BooleanField(_("back-dated"), default=False, editable=False)

    objects = models.Manager.from_queryset(LedgerQuerySet)()

    class Meta:
        verbose_name = _("transaction")
        verbose_name_plural = _("transactions")
        ordering = ["account_id", "account_version"]
        constraints = [
            check_constraint(~Q(amount=0), "accounts_transaction_amount_not_zero"),
            check_constraint(Q(account_version__gte=1), "accounts_transaction_version_positive"),
            check_constraint(Q(leg_index__gte=1), "accounts_transaction_leg_index_positive"),
            models.UniqueConstraint(
                fields=["transfer", "leg_index"], name="accounts_transaction_unique_leg_index"
            ),
            models.UniqueConstraint(
                fields=["account", "account_version"], name="accounts_transaction_unique_version"
            ),
        ]
        indexes = [
            models.Index(
                fields=["account", "created_at", "account_version"],
                name="accounts_tx_account_time",
            ),
            models.Index(fields=["account", "backdated"], name="accounts_tx_backdated"),
        ]

    def __str__(self) -> str:
        return f"{self.transfer_id}/{self.leg_index}: {self.amount} {self.currency}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise exceptions.LedgerImmutable()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise exceptions.LedgerImmutable()

    @property
    def is_credit(self) -> bool:
        return self.amount > 0

    @property
    def is_debit(self) -> bool:
        return self.amount < 0

    @property
    def debit(self) -> Decimal | None:
        return -self.amount if self.amount < 0 else None

    @property
    def credit(self) -> Decimal | None:
        return self.amount if self.amount > 0 else None


# Keep the name checkers and tools see in one place.
__all__ = [
    "CORE_CODE_PREFIX",
    "DEBIT_NORMAL_KINDS",
    "EXPIRED_CODE",
    "KIND_ORDER",
    "SALES_CODE",
    "SOURCE_CODE",
    "Account",
    "AccountType",
    "AuditAction",
    "AuditEntry",
    "Budget",
    "Kind",
    "Status",
    "Surface",
    "Transaction",
    "Transfer",
    "TransferKind",
    "kind_choices",
    "kind_rank",
    "normal_sign",
]


class LookupThrottle(models.Model):
    """Failed code and reference lookups of one API client, to stop codes being guessed.

    One row per client (``user:<pk>`` or ``ip:<address>``), kept in the database so that the
    count survives restarts and is shared by every process. The rules and limits live in
    :mod:`accounts.api.throttle`; staff lift a block in the admin.
    """

    client = models.CharField(_("client"), max_length=64, unique=True)
    window_started_at = models.DateTimeField(_("window started"), null=True, blank=True)
    window_failures = models.PositiveIntegerField(_("failures in window"), default=0)
    total_failures = models.PositiveIntegerField(_("failures since last lifted"), default=0)
    last_failure_at = models.DateTimeField(_("last failure"), null=True, blank=True)
    cooled_off_until = models.DateTimeField(_("cooling off until"), null=True, blank=True)
    blocked_at = models.DateTimeField(_("blocked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API lookup throttle")
        verbose_name_plural = _("API lookup throttles")
        ordering = ["client"]

    def __str__(self) -> str:
        return self.client


class ApiKey(models.Model):
    """A secret a till or server sends to the JSON API instead of a password.

    Keys are long random strings, not passwords, so a fast hash (SHA-256) stores them safely
    and checking one costs microseconds. Only the hash and a public prefix are kept: the key
    itself is shown once, when it is made. Each key acts as its user, whose permissions apply;
    revoking it is immediate. The rules live in :mod:`accounts.api.keys`.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="accounts_api_keys",
    )
    name = models.CharField(
        _("name"), max_length=100, help_text=_('Where the key is used, such as "Till 3".')
    )
    #: The key's public first part, shown in lists so that staff can tell keys apart.
    prefix = models.CharField(_("prefix"), max_length=16, unique=True, editable=False)
    #: SHA-256 of the whole key, in hexadecimal.
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    #: Updated at most once a minute, so that busy tills do not write on every call.
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}...)"

    def is_usable(self, at: datetime.datetime | None = None) -> bool:
        """Whether the key may authenticate now: not revoked, not expired, its user active."""
        at = at or timezone.now()
        return (
            self.revoked_at is None
            and (self.expires_at is None or self.expires_at > at)
            and bool(getattr(self.user, "is_active", True))
        )


class AuditEntry(models.Model):
    """One administrative act: who did what to which account or transfer, from where, and why.

    Written by the facade in the same transaction as the act, so code paths are recorded as
    surely as the dashboard's, and a refused act leaves no entry. Append-only like the ledger:
    entries are never changed or deleted (the database refuses it too); deleting the user who
    acted only clears ``user``, and ``username`` keeps their name.
    """

    action = models.CharField(_("action"), max_length=32, choices=AuditAction.choices)
    account = models.ForeignKey(
        Account,
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_entries",
    )
    #: The transfer the act posted (a reversal, a refund, an expiry sweep, an opening load).
    transfer = models.ForeignKey(
        Transfer,
        verbose_name=_("transfer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_entries",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="accounts_audit_entries",
    )
    username = models.CharField(_("username"), max_length=150, blank=True)
    surface = models.CharField(
        _("surface"), max_length=16, choices=Surface.choices, default=Surface.CODE
    )
    reason = models.TextField(_("reason"), blank=True, default="")
    #: For edits: ``{"field": [old, new]}``, values as text.
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)

    objects = models.Manager.from_queryset(LedgerQuerySet)()

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["account", "created_at"], name="accounts_audit_account_time"),
        ]

    def __str__(self) -> str:
        # Translators: who made an administrative act when no user did: the application's code.
        who = self.username or pgettext_lazy("audit entry made by", "code")
        # Translators: an audit entry, such as "Frozen by alice".
        return gettext("%(action)s by %(user)s") % {
            "action": self.get_action_display(),
            "user": who,
        }

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise exceptions.LedgerImmutable(gettext("Audit entries are append-only."))
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise exceptions.LedgerImmutable(gettext("Audit entries are append-only."))
