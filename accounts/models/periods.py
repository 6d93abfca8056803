"""Closed periods: the books through a day, closed so that nothing dated in them changes.

Each :class:`ClosedPeriod` row closes the books through ``closed_through`` (a day, in the site's
time zone); ``closed_until`` is the first moment after it. No leg may be dated before the latest
``closed_until``: the facade refuses such a posting (:class:`~accounts.exceptions.PeriodClosed`)
and the database refuses the leg (trigger set T8, frozen in migration 0011). Closings are
append-only and each ends after the one before, so reports of a closed period never change.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..vocabulary import TransferKind
from .ledger import Transfer


class ClosedPeriod(models.Model):
    """The books closed through a day, by whom and when."""

    closed_through = models.DateField(_("closed through"), unique=True)
    #: The first moment after ``closed_through`` in the time zone it was closed in.
    closed_until = models.DateTimeField(_("closed until"), unique=True, editable=False)
    closed_at = models.DateTimeField(_("closed at"), default=timezone.now, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    #: The user's name when the period was closed; survives the user's deletion.
    username = models.CharField(_("username"), max_length=150, blank=True, editable=False)
    reason = models.TextField(_("reason"), blank=True, default="")

    class Meta:
        verbose_name = _("closed period")
        verbose_name_plural = _("closed periods")
        ordering = ["-closed_until"]

    def __str__(self) -> str:
        return f"{self.closed_through:%Y-%m-%d}"

    def closing_entries(self) -> models.QuerySet[Any]:
        """The year-end closing entries posted with this closing (dated ``closed_until``)."""
        return Transfer.objects.using(self._state.db or "default").filter(
            kind=TransferKind.CLOSING, created_at=self.closed_until
        )
