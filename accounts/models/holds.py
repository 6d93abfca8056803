"""Holds: money reserved on an account now and posted, in full or in part, later.

A hold is the first phase of a two-phase transfer (a card authorisation). While it is pending,
its amount sits in the source's ``pending_debits`` and the destination's ``pending_credits``
(see :class:`~accounts.models.Account`), which the credit-limit constraint counts, so reserved
money cannot be spent twice. It resolves exactly once: captured (a transfer is posted and the
rest released), voided or expired. Only the facade (:mod:`accounts.facade.holds`) writes holds.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..compat import check_constraint
from ..fields import money_field
from ..vocabulary import HoldStatus
from .account import Account
from .ledger import Transfer


class Hold(models.Model):
    """Funds reserved from ``source`` for ``destination``, until captured, voided or expired."""

    reference = models.CharField(_("reference"), max_length=32, unique=True, editable=False)
    source = models.ForeignKey(
        Account,
        verbose_name=_("source"),
        on_delete=models.PROTECT,
        related_name="source_holds",
        help_text=_("The account the capture debits."),
    )
    destination = models.ForeignKey(
        Account,
        verbose_name=_("destination"),
        on_delete=models.PROTECT,
        related_name="destination_holds",
        help_text=_("The account the capture credits."),
    )
    #: What was authorised; a capture posts at most this much.
    amount = money_field(verbose_name=_("amount"))
    currency = models.CharField(_("currency"), max_length=3)
    status = models.CharField(
        _("status"),
        max_length=8,
        choices=HoldStatus.choices,
        default=HoldStatus.PENDING,
        db_index=True,
    )
    #: After this moment the hold can no longer be captured; the sweep releases it.
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True, db_index=True)
    #: What the capture posted (at most ``amount``); set only when captured.
    captured_amount = money_field(verbose_name=_("captured amount"), null=True, blank=True)
    #: The transfer the capture posted.
    transfer = models.OneToOneField(
        Transfer,
        verbose_name=_("transfer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="hold",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="holds",
    )
    merchant_reference = models.CharField(
        _("merchant reference"), max_length=128, null=True, blank=True, db_index=True
    )
    description = models.TextField(_("description"), blank=True, default="")
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    #: When the hold left ``pending``.
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)

    class Meta:
        verbose_name = _("hold")
        verbose_name_plural = _("holds")
        ordering = ["-created_at", "-pk"]
        constraints = [
            check_constraint(Q(amount__gt=0), "accounts_hold_amount_positive"),
            check_constraint(~Q(source=F("destination")), "accounts_hold_source_not_destination"),
            # Captured: with its transfer and a captured amount within the authorised one;
            # otherwise neither.
            check_constraint(
                (
                    Q(status=HoldStatus.CAPTURED)
                    & Q(transfer__isnull=False)
                    & Q(captured_amount__gt=0)
                    & Q(captured_amount__lte=F("amount"))
                )
                | (
                    ~Q(status=HoldStatus.CAPTURED)
                    & Q(transfer__isnull=True)
                    & Q(captured_amount__isnull=True)
                ),
                "accounts_hold_captured_with_transfer",
            ),
            check_constraint(
                (Q(status=HoldStatus.PENDING) & Q(resolved_at__isnull=True))
                | (~Q(status=HoldStatus.PENDING) & Q(resolved_at__isnull=False)),
                "accounts_hold_resolved_when_not_pending",
            ),
            check_constraint(Q(status__in=HoldStatus.values), "accounts_hold_status_known"),
        ]

    def __str__(self) -> str:
        return self.reference

    def is_pending(self) -> bool:
        return self.status == HoldStatus.PENDING

    def is_expired(self, at: datetime.datetime | None = None) -> bool:
        """Whether the hold's time is up (whatever its status), so it can no longer be captured."""
        return self.expires_at is not None and self.expires_at <= (at or timezone.now())

    @property
    def released_amount(self) -> Decimal:
        """What went back to the source without being posted (all of it unless captured)."""
        if self.status == HoldStatus.PENDING:
            return Decimal(0)
        return self.amount - (self.captured_amount or Decimal(0))
