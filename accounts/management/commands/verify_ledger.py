"""Prove that the books balance and that no stored balance has drifted from its legs."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accounts import reports


class Command(BaseCommand):
    help = (
        "Check that every transfer's legs sum to zero per currency, every stored balance equals "
        "the sum of its legs, every running balance follows from the one before, and the "
        "accounting equation holds. Prints each difference and exits non-zero if there is any."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        result = reports.verify()
        for problem in result.problems:
            self.stdout.write(f"{problem.what}: {problem.detail}")
        summary = (
            f"{result.transfers_checked} transfers, {result.legs_checked} legs and "
            f"{result.accounts_checked} accounts checked"
        )
        if not result.ok:
            raise CommandError(f"{len(result.problems)} problem(s) found; {summary}.")
        self.stdout.write(self.style.SUCCESS(f"The ledger balances: {summary}."))
