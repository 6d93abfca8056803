"""Revoke an API key by its prefix (``revoke_api_key dma_k3x9q2mz``); it stops working at once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.api import keys
from accounts.models import ApiKey


class Command(BaseCommand):
    help = (
        "Revoke the API key with PREFIX (the part before the dot, listed in the admin). A "
        "revoked key stops working at once; revoking it again changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("prefix", help="The key's public prefix, such as dma_k3x9q2mz.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            key = keys.revoke_prefix(options["prefix"])
        except ApiKey.DoesNotExist:
            raise CommandError(f"No API key has the prefix {options['prefix'][:32]!r}.") from None
        since = key.revoked_at.isoformat() if key.revoked_at else "now"
        self.stdout.write(f"API key {key.prefix} ({key.name}) is revoked since {since}.")
