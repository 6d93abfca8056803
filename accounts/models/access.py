"""Who may use the JSON API: its keys and the throttle on code lookups."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


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
