"""The audit trail of administrative acts."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from .. import exceptions
from ..managers import LedgerQuerySet
from ..vocabulary import AuditAction, Surface
from .account import Account
from .ledger import Transfer


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
