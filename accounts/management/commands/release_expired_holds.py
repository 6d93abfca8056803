"""Release every pending hold whose expiry has passed (run it from cron)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts import facade, money
from accounts.management.base import TranslatedCommand
from accounts.progress import Progress


class Command(TranslatedCommand):
    help = _(
        "Mark every pending hold past its expiry as expired and give its reserved amount back "
        "to its source. Each hold is released in its own locked transaction; a hold captured "
        "or voided meanwhile is left alone, and running the command twice changes nothing the "
        "second time."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help=gettext("List the holds that would be released; change nothing."),
        )
        parser.add_argument(
            "--no-progress", action="store_true", help=gettext("Do not draw a progress bar.")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        due = facade.expired_holds(now)
        if options["dry_run"]:
            count = 0
            for hold in due.iterator(chunk_size=facade.holds.EXPIRED_HOLDS_CHUNK_SIZE):
                count += 1
                self.stdout.write(
                    gettext("would release %(hold)s: %(amount)s %(currency)s, expired %(date)s")
                    % {
                        "hold": hold.reference,
                        "amount": money.format_amount(hold.amount, hold.currency),
                        "currency": hold.currency,
                        "date": hold.expires_at.isoformat() if hold.expires_at else "",
                    }
                )
            self.stdout.write(
                ngettext(
                    "%(count)d expired hold would be released (dry run).",
                    "%(count)d expired holds would be released (dry run).",
                    count,
                )
                % {"count": count}
            )
            return
        total = due.count()
        bar = Progress(
            total,
            label=gettext("Releasing expired holds"),
            stream=self.stderr._out,  # type: ignore[arg-type]
            enabled=not options["no_progress"] and total > 0,
        )
        released = 0
        for pk in facade.expired_hold_ids(now):
            if facade.release_expired_hold(pk, at=now) is not None:
                released += 1
            bar.advance()
        bar.finish()
        self.stdout.write(
            ngettext(
                "Released %(count)d expired hold.",
                "Released %(count)d expired holds.",
                released,
            )
            % {"count": released}
        )
