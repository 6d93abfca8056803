"""Accounts and the tree of account types that groups them."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from mptt.models import MPTTModel, TreeForeignKey

from .. import codes, conf, exceptions, rules, tree
from ..compat import check_constraint
from ..fields import money_field
from ..ledger import balances
from ..managers import AccountManager, AccountQuerySet, AccountTypeManager
from ..money import Balance, format_amount
from ..tree import TREE_PATH_LENGTH_MAX, new_tree_path
from ..vocabulary import (
    CORE_CODE_PREFIX,
    DEBIT_NORMAL_KINDS,
    Kind,
    Status,
    kind_label,
    normal_sign,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser


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


#: How many times a clashing generated code is drawn again before giving up.
CODE_RETRIES_MAX = 5


def _facade() -> Any:
    """:mod:`accounts.facade`, for the seed's lifecycle methods (``Account.close`` and friends).

    The one place where the models reach up a layer: the facade imports the models, so the
    models import it only when one of those methods is called.
    """
    from .. import facade

    return facade


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
    #: What pending holds will debit from this account (it is their source) and credit to it
    #: (it is their destination) when captured: reserved, not yet posted. The side that would
    #: lower the natural balance (:attr:`pending_reserved`) counts against the credit limit, as
    #: the constraint below says; the other side is not available until captured.
    pending_debits = money_field(
        verbose_name=_("pending debits"), default=Decimal("0.00"), editable=False
    )
    pending_credits = money_field(
        verbose_name=_("pending credits"), default=Decimal("0.00"), editable=False
    )
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
    #: A bank account whose statements are imported and reconciled (accounts.statements). Only
    #: designated accounts take statements; the designation is explicit, never inferred.
    is_bank = models.BooleanField(
        _("bank account"),
        default=False,
        help_text=_("Takes imported bank statements. Only an asset account can be one."),
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
            # A bank account holds the organisation's money: an asset, on the left of the
            # accounting equation, so money in debits it.
            check_constraint(
                Q(is_bank=False) | Q(kind="asset"),
                "accounts_account_bank_is_asset",
            ),
            check_constraint(
                Q(credit_limit__isnull=True) | Q(credit_limit__gte=0),
                "accounts_account_credit_limit_not_negative",
            ),
            check_constraint(
                Q(credit_limit__isnull=True) | Q(balance__gte=-F("credit_limit")),
                "accounts_account_within_credit_limit",
            ),
            # Pending holds count against the limit: the posted balance less what the holds
            # would take off it (debits off a credit-normal balance, credits off a debit-normal).
            check_constraint(
                Q(credit_limit__isnull=True)
                | (
                    Q(kind__in=sorted(DEBIT_NORMAL_KINDS))
                    & Q(balance__gte=F("pending_credits") - F("credit_limit"))
                )
                | (
                    ~Q(kind__in=sorted(DEBIT_NORMAL_KINDS))
                    & Q(balance__gte=F("pending_debits") - F("credit_limit"))
                ),
                "accounts_account_within_credit_limit_holds",
            ),
            check_constraint(
                Q(pending_debits__gte=0) & Q(pending_credits__gte=0),
                "accounts_account_pending_not_negative",
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
        self._check_designations()
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

    def _check_designations(self) -> None:
        """A card is a limited liability outside the core; a bank account is an asset."""
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
        if self.is_bank and self.kind != Kind.ASSET:
            raise exceptions.NotBankAccount(
                gettext("Account %(account)s cannot be a bank account: only an asset can be one.")
                % {"account": self}
            )

    def _place_in_tree(self) -> str | None:
        """Set ``tree_path`` under the parent; return the old path if the account moved."""
        return tree.place(self)

    def _move_descendants(self, old_path: str) -> None:
        tree.move_descendants(self, old_path)

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
        """How far the balance can still fall now: balance less holds, plus limit (None: no limit).

        What pending holds would take off the balance (:attr:`pending_reserved`) is not available.

        Zero while the account cannot be debited at all (frozen, closed, expired or not yet
        started), whatever its balance and limit: nothing is available to spend.
        """
        if not self.is_active():
            return Decimal("0")
        if self.credit_limit is None:
            return None
        return max(self.balance - self.pending_reserved + self.credit_limit, Decimal("0"))

    @property
    def posted(self) -> Decimal:
        """The posted balance: every leg, no hold (the same as :attr:`balance`)."""
        return self.balance

    @property
    def pending(self) -> Decimal:
        """What the pending holds would add to the balance if all were captured (signed)."""
        return (self.pending_credits - self.pending_debits) * self.normal_sign

    @property
    def pending_reserved(self) -> Decimal:
        """What the pending holds would take off the natural balance: it is not available."""
        return self.pending_credits if self.normal_sign < 0 else self.pending_debits

    def is_debit_permitted(self, amount: Decimal) -> bool:
        """Whether debiting ``amount`` keeps the balance within the credit limit.

        A debit lowers a credit-normal balance (a gift card being spent) and raises a
        debit-normal one (an asset receiving money), so only the former can break the limit.
        """
        reserved = self.pending_reserved
        return rules.within_credit_limit(
            self.balance - reserved,
            self.balance - reserved - amount * self.normal_sign,
            self.credit_limit,
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

    # -- balances (stated once, in accounts.ledger.balances) ---------------------------------

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
        return balances.balance_of(self, as_of)

    def get_balances(self, as_of: datetime.datetime | None = None) -> Balance:
        """The rolled-up balance in every currency held by this account and its descendants."""
        return balances.balances_of(self, as_of)

    def descendants(self) -> AccountQuerySet:
        return (
            type(self)
            .objects.get_queryset()
            .filter(tree_path__startswith=self.tree_path)
            .exclude(pk=self.pk)
        )


#: The predecessor's name for an account.
Budget = Account
