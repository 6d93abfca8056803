"""Revoke an API key by its prefix (``revoke_api_key dma_k3x9q2mz``); it stops working at once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.api import keys
from accounts.management.base import TranslatedCommand
from accounts.models import ApiKey


class Command(TranslatedCommand):
    help = _(
        "Revoke the API key with PREFIX (the part before the dot, listed in the admin). A "
        "revoked key stops working at once; revoking it again changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "prefix", help=gettext("The key's public prefix, such as dma_k3x9q2mz.")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            key = keys.revoke_prefix(options["prefix"])
        except ApiKey.DoesNotExist:
            raise CommandError(
                gettext("No API key has the prefix %(prefix)s.")
                % {"prefix": repr(options["prefix"][:32])}
            ) from None
        values = {"prefix": key.prefix, "name": key.name}
        if key.revoked_at is None:  # pragma: no cover - revoke_prefix always sets it
            message = gettext("API key %(prefix)s (%(name)s) is revoked now.")
        else:
            values["since"] = key.revoked_at.isoformat()
            message = gettext("API key %(prefix)s (%(name)s) is revoked since %(since)s.")
        self.stdout.write(message % values)
