"""Transfers and their legs: the ledger's append-only rows."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .. import exceptions
from ..compat import check_constraint
from ..fields import money_field
from ..managers import LedgerQuerySet, TransferManager
from ..vocabulary import TransferKind
from .account import Account

#: The precision of an exchange rate: up to 12 digits before the point and 12 after.
RATE_MAX_DIGITS = 24
RATE_DECIMAL_PLACES = 12


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
    #: An exchange's rate, when one was given: destination units per source unit.
    rate = models.DecimalField(
        _("exchange rate"),
        max_digits=RATE_MAX_DIGITS,
        decimal_places=RATE_DECIMAL_PLACES,
        null=True,
        blank=True,
        editable=False,
    )

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
            check_constraint(
                Q(rate__isnull=True) | Q(rate__gt=0), "accounts_transfer_rate_positive"
            ),
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
