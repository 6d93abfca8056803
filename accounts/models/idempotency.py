"""Idempotency keys: what a call made with a key did, so that a retry of it does nothing new.

A key is unique per ledger (per database), and the database enforces it with a unique index:
the facade inserts the key's row *before* it posts, so two first attempts with one key meet on
that index and the second waits until the first commits (then replays its result) or rolls back
(then goes ahead itself). See :mod:`accounts.ledger.idempotency`.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .account import Account
from .holds import Hold
from .ledger import Transfer

#: Longest idempotency key, in characters (as Stripe and the IETF draft allow).
IDEMPOTENCY_KEY_LENGTH_MAX = 255


class IdempotencyKey(models.Model):
    """A key a caller gave a call, the call's name and arguments, and what it produced.

    ``arguments`` holds a SHA-256 digest of each argument's canonical form, by argument name:
    enough to tell a replay from a different call and to name the arguments that differ,
    without keeping a second copy of descriptions or card codes.
    """

    #: Compared exactly (binary collation on MySQL and MariaDB; see migration 0009).
    key = models.CharField(_("key"), max_length=IDEMPOTENCY_KEY_LENGTH_MAX, unique=True)
    #: The facade function the key was first used with, such as ``transfer``.
    operation = models.CharField(_("operation"), max_length=32)
    arguments = models.JSONField(_("arguments"), default=dict)
    #: What the call produced: a transfer, for ``create_card`` the new card, for ``authorise``
    #: and ``void`` the hold.
    transfer = models.ForeignKey(
        Transfer,
        verbose_name=_("transfer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    account = models.ForeignKey(
        Account,
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    hold = models.ForeignKey(
        Hold,
        verbose_name=_("hold"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    #: A batch's transfers (``transfer_many``), by key, in input order.
    transfers = models.JSONField(_("transfers"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")

    def __str__(self) -> str:
        return f"{self.operation} {self.key}"
