"""``manage.py load_demo_data``: fill the sandbox with books worth exploring."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts import exceptions, money, reports

from ... import loader

#: Where ``make sandbox`` serves the site.
SANDBOX_URL = "http://127.0.0.1:8000/"


class Command(BaseCommand):
    help = (
        "Load the sandbox's demo data: demo logins, a gift-card shop (cards expiring soon, "
        "expired, partly spent, refunded, reversed), a B2B credit line and a shared house's "
        "ledger. Idempotent: each part that is already there is left alone, so running it "
        "twice does not double the data. Prints the URL and the logins."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--url",
            default=SANDBOX_URL,
            help=f"The address to print for the site (default {SANDBOX_URL}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = loader.load()
        except exceptions.AccountException as refusal:
            raise CommandError(f"The demo data was refused: {refusal.message}") from refusal
        for line in result.describe():
            self.stdout.write(f"Demo data, {line}")
        check = reports.verify()
        if not check.ok:
            details = "; ".join(f"{p.what}: {p.detail}" for p in check.problems[:5])
            raise CommandError(f"The books do not verify: {details}")
        self.stdout.write(
            f"Books verified: {check.transfers_checked} transfers, {check.legs_checked} legs, "
            f"{check.accounts_checked} accounts; the accounting equation holds."
        )
        url = options["url"].rstrip("/") + "/"
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"The sandbox is at {url}"))
        for username, password, purpose in loader.LOGINS:
            self.stdout.write(f"  {username + ' / ' + password:<16}{purpose}")
        self.stdout.write(
            f"  admin: {url}admin/   dashboard: {url}dashboard/   API: {url}api/v1/openapi.json"
        )
        card = loader.sample_card()
        if card is not None:
            self.stdout.write(
                f"A gift card to try: {card.name}, code {card.code}, "
                f"balance {money.format_amount(card.balance, card.currency)} {card.currency}"
            )
        self.stdout.write(
            "A bank statement to import under Bank statements: "
            "python sandbox/manage.py demo_statement house.csv"
        )
