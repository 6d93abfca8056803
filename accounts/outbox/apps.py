"""The outbox's wiring: one in-transaction receiver, connected in :meth:`OutboxConfig.ready`."""

from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutboxConfig(AppConfig):
    name = "accounts.outbox"
    label = "accounts_outbox"
    verbose_name = _("Managed accounts: event outbox")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from .. import events
        from . import recording

        events.event_recorded.connect(recording.record, dispatch_uid="accounts_outbox.record")
