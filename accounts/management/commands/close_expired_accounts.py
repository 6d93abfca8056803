"""Sweep and close every open account whose end date has passed (run it from cron)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts import facade, money
from accounts.management.base import TranslatedCommand
from accounts.models import Account, Surface
from accounts.progress import Progress

#: Accounts read per query and swept per transaction (see facade.expire_accounts).
BATCH_SIZE = facade.SWEEP_CHUNK_SIZE


class Command(TranslatedCommand):
    help = _(
        "Move what is left in every expired open account to the expired account and close it, "
        "zero balances included. Accounts are swept in locked chunks of 500, written in bulk; "
        "running the command twice changes nothing the second time."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help=gettext("List what would be swept; change nothing."),
        )
        parser.add_argument(
            "--limit",
            type=int,
            default=None,
            help=gettext("Sweep at most this many accounts (default: all)."),
        )
        parser.add_argument(
            "--no-progress", action="store_true", help=gettext("Do not draw a progress bar.")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        limit = options["limit"]
        if limit is not None and limit < 1:
            raise CommandError(gettext("--limit must be at least 1."))
        pks = list(Account.objects.expired(now).order_by("pk").values_list("pk", flat=True))
        if limit is not None:
            pks = pks[:limit]
        if options["dry_run"]:
            self.dry_run(pks)
            return
        self.close(pks, progress=not options["no_progress"])

    def dry_run(self, pks: list[int]) -> None:
        """Say what would be closed and how much each would move; change nothing."""
        for account in Account.objects.filter(pk__in=pks).iterator(chunk_size=BATCH_SIZE):
            self.stdout.write(
                gettext("would close %(code)s (%(account)s): %(balance)s %(currency)s to move")
                % {
                    "code": account.code,
                    "account": account,
                    "balance": money.format_amount(account.balance, account.currency),
                    "currency": account.currency,
                }
            )
        self.stdout.write(
            ngettext(
                "%(count)d expired account would be closed (dry run).",
                "%(count)d expired accounts would be closed (dry run).",
                len(pks),
            )
            % {"count": len(pks)}
        )

    def close(self, pks: list[int], *, progress: bool) -> None:
        """Sweep the accounts through the facade a chunk at a time, saying what it refuses."""
        closed = skipped = 0
        moved: dict[str, Any] = {}
        bar = Progress(
            len(pks),
            label=gettext("Closing expired accounts"),
            stream=self.stderr._out,  # type: ignore[arg-type]
            enabled=progress and len(pks) > 0,
        )
        for start in range(0, len(pks), BATCH_SIZE):
            chunk = pks[start : start + BATCH_SIZE]
            result = facade.expire_accounts(chunk, surface=Surface.COMMAND)
            codes = dict(
                Account.objects.filter(pk__in=list(result.skipped)).values_list("pk", "code")
            )
            for pk, refusal in sorted(result.skipped.items()):
                skipped += 1
                self.stderr.write(
                    gettext("skipped %(code)s: %(reason)s")
                    % {"code": codes.get(pk, pk), "reason": refusal.message}
                )
            closed += len(result.closed)
            for currency, amount in result.moved().items():
                moved[currency] = moved.get(currency, 0) + amount
            bar.advance(len(chunk))
        bar.finish()
        total = ", ".join(
            f"{money.format_amount(amount, currency)} {currency}"
            for currency, amount in sorted(moved.items())
        )
        self.stdout.write(
            # Translators: closed is "Closed 3 expired accounts"; moved is a list of amounts
            # such as "12.50 GBP, 3.00 EUR", or "nothing".
            gettext("%(closed)s; moved %(moved)s to the expired account; skipped %(skipped)d.")
            % {
                "closed": ngettext(
                    "Closed %(count)d expired account",
                    "Closed %(count)d expired accounts",
                    closed,
                )
                % {"count": closed},
                "moved": total or gettext("nothing"),
                "skipped": skipped,
            }
        )
