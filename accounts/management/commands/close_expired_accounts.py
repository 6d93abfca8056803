"""Sweep and close every open account whose end date has passed (run it from cron)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from accounts import exceptions, facade
from accounts.models import Account, Surface
from accounts.progress import Progress

#: Accounts fetched per query while sweeping, so memory stays flat on large ledgers.
BATCH_SIZE = 500


class Command(BaseCommand):
    help = (
        "Move what is left in every expired open account to the expired account and close it, "
        "zero balances included. Each account is swept in its own locked transaction; running "
        "the command twice changes nothing the second time."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="List what would be swept; change nothing."
        )
        parser.add_argument(
            "--limit",
            type=int,
            default=None,
            help="Sweep at most this many accounts (default: all).",
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="Do not draw a progress bar."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        limit = options["limit"]
        if limit is not None and limit < 1:
            raise CommandError("--limit must be at least 1.")
        pks = list(Account.objects.expired(now).order_by("pk").values_list("pk", flat=True))
        if limit is not None:
            pks = pks[:limit]
        if options["dry_run"]:
            for account in Account.objects.filter(pk__in=pks).iterator(chunk_size=BATCH_SIZE):
                self.stdout.write(
                    f"would close {account.code} ({account}): {account.balance} "
                    f"{account.currency} to move"
                )
            self.stdout.write(f"{len(pks)} expired account(s) would be closed (dry run).")
            return
        closed = skipped = 0
        moved: dict[str, Any] = {}
        progress = Progress(
            len(pks),
            label="Closing expired accounts",
            stream=self.stderr._out,  # type: ignore[arg-type]
            enabled=not options["no_progress"] and len(pks) > 0,
        )
        for pk in pks:
            account = Account.objects.get(pk=pk)
            try:
                swept = facade.expire_account(account, surface=Surface.COMMAND)
            except exceptions.AccountException as exc:
                skipped += 1
                self.stderr.write(f"skipped {account.code}: {exc.message}")
            else:
                account.refresh_from_db()
                if account.is_closed():
                    closed += 1
                if swept is not None:
                    moved[swept.currency] = moved.get(swept.currency, 0) + swept.amount
            progress.advance()
        progress.finish()
        total = ", ".join(f"{amount} {currency}" for currency, amount in sorted(moved.items()))
        self.stdout.write(
            f"Closed {closed} expired account(s); moved {total or 'nothing'} to the expired "
            f"account; skipped {skipped}."
        )
