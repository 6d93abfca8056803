"""All of the app's wiring happens in :meth:`AccountsConfig.ready`; nothing connects at import."""

from __future__ import annotations

from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate, post_save, pre_save
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Managed accounts")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks, signals
        from .models import Account, Transaction, Transfer

        checks.register()
        post_migrate.connect(signals.ensure_triggers, sender=self)
        post_migrate.connect(signals.create_core_accounts, sender=self)
        connection_created.connect(signals.prepare_connection)
        for model in (Account, Transfer, Transaction):
            pre_save.connect(signals.unlock_for_fixture, sender=model)
            post_save.connect(signals.relock_after_fixture, sender=model)
