"""One row per event, written in the transaction of the work it describes."""

from __future__ import annotations

import uuid

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

#: The longest event name (``transfer.refunded`` and its kin are far shorter).
EVENT_LENGTH_MAX = 64


class OutboxMessage(models.Model):
    """An event waiting for delivery to the webhook, or delivered, or given up on."""

    #: What the webhook receives as the delivery's ``id``: stable across retries, for deduplication.
    uuid = models.UUIDField(_("id"), default=uuid.uuid4, unique=True, editable=False)
    event = models.CharField(_("event"), max_length=EVENT_LENGTH_MAX)
    #: Plain values only (ids, references, amounts as strings): see :mod:`.recording`.
    payload = models.JSONField(_("payload"), encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True, default="")

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        ordering = ["pk"]
        # What deliver_outbox asks for: undelivered rows that are due.
        indexes = [models.Index(fields=["delivered_at", "next_attempt_at"], name="outbox_due")]

    def __str__(self) -> str:
        return f"{self.event} {self.uuid}"
