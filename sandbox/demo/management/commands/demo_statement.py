"""Write a bank statement (CSV) of the shared house's month, to upload in the dashboard."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import Account

from ... import statement


class Command(BaseCommand):
    help = (
        "Write the shared house's bank statement for the demo month as a CSV file (to standard "
        "output without a path), to import under Bank statements in the dashboard."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", nargs="?", help="Where to write the CSV file.")

    def handle(self, *args: Any, **options: Any) -> None:
        bank = Account.objects.filter(code="HOUSE-BANK").first()
        if bank is None:
            raise CommandError("The shared house is not loaded: run load_demo_data first.")
        text = statement.render(bank)
        if options["path"] is None:
            self.stdout.write(text, ending="")
            return
        Path(options["path"]).write_text(text, encoding="utf-8")
        count = text.count("\n") - 1
        self.stdout.write(f"Wrote {count} statement lines to {options['path']}.")
