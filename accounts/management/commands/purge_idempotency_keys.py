"""Delete idempotency keys older than ``ACCOUNTS_IDEMPOTENCY_KEY_RETENTION`` (run it from cron).

A key is only worth keeping while a client may still retry the call it was given; past the
retention, a request with that key is a new call. Keys go in batches of their own short
transaction, so a large purge holds no lock for long; the cut-off is fixed when the command
starts, so a run always ends, and running it twice deletes nothing the second time.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts import conf
from accounts.ledger import idempotency
from accounts.management.base import TranslatedCommand
from accounts.progress import Progress

#: Keys deleted per statement (and per transaction) unless --batch-size says otherwise.
BATCH_SIZE = 1000
#: The largest --batch-size: one DELETE ... WHERE pk IN (...) must stay a bearable statement.
BATCH_SIZE_MAX = 10_000


class Command(TranslatedCommand):
    help = _(
        "Delete idempotency keys older than ACCOUNTS_IDEMPOTENCY_KEY_RETENTION (30 days by "
        "default), in batches. A retry with a deleted key is a new call. Safe to run twice and "
        "from cron."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help=gettext("Count what would be deleted; delete nothing."),
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=BATCH_SIZE,
            help=gettext("Keys deleted per statement (default %(default)s, at most %(max)s).")
            % {"default": BATCH_SIZE, "max": BATCH_SIZE_MAX},
        )
        parser.add_argument(
            "--no-progress", action="store_true", help=gettext("Do not draw a progress bar.")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        batch_size = options["batch_size"]
        if not 1 <= batch_size <= BATCH_SIZE_MAX:
            raise CommandError(
                gettext("--batch-size must be between 1 and %(max)d.") % {"max": BATCH_SIZE_MAX}
            )
        cutoff = timezone.now() - conf.idempotency_key_retention()
        stale = idempotency.stale(cutoff)
        total = stale.count()
        if options["dry_run"]:
            self.stdout.write(
                ngettext(
                    "%(count)d idempotency key created before %(cutoff)s would be deleted "
                    "(dry run).",
                    "%(count)d idempotency keys created before %(cutoff)s would be deleted "
                    "(dry run).",
                    total,
                )
                % {"count": total, "cutoff": cutoff.isoformat(timespec="seconds")}
            )
            return
        bar = Progress(
            total,
            label=gettext("Purging idempotency keys"),
            stream=self.stderr._out,  # type: ignore[arg-type]
            enabled=not options["no_progress"],
        )
        deleted = 0
        while pks := list(stale.values_list("pk", flat=True)[:batch_size]):
            count = idempotency.purge(pks)
            deleted += count
            bar.advance(count)
        bar.finish()
        self.stdout.write(
            ngettext(
                "Deleted %(count)d idempotency key created before %(cutoff)s.",
                "Deleted %(count)d idempotency keys created before %(cutoff)s.",
                deleted,
            )
            % {"count": deleted, "cutoff": cutoff.isoformat(timespec="seconds")}
        )
