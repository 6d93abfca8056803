"""POST every due outbox message to the webhook, retrying failures later (run it from cron)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts.checks import is_webhook_url
from accounts.management.base import TranslatedCommand
from accounts.outbox import delivery
from accounts.progress import Progress

#: Messages locked and sent per transaction unless --batch-size says otherwise, and the most.
BATCH_SIZE = 100
BATCH_SIZE_MAX = 1000


class Command(TranslatedCommand):
    help = _(
        "Send each undelivered event of the outbox to ACCOUNTS_OUTBOX_WEBHOOK_URL as a signed "
        "JSON POST. Failures are retried by later runs with exponential backoff, up to "
        "ACCOUNTS_OUTBOX_MAX_ATTEMPTS; two runs at once never send one message twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help=gettext("List the messages that are due; send nothing."),
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=BATCH_SIZE,
            help=gettext("Messages locked and sent per transaction (default: %(default)s)."),
        )
        parser.add_argument(
            "--no-progress", action="store_true", help=gettext("Do not draw a progress bar.")
        )
        parser.add_argument(
            "--database", default=DEFAULT_DB_ALIAS, help=gettext("Database alias to deliver from.")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        batch_size = options["batch_size"]
        if not 1 <= batch_size <= BATCH_SIZE_MAX:
            raise CommandError(
                gettext("--batch-size must be between 1 and %(limit)d.") % {"limit": BATCH_SIZE_MAX}
            )
        target = delivery.Target.from_settings()
        if target is None:
            raise CommandError(gettext("Set ACCOUNTS_OUTBOX_WEBHOOK_URL to deliver the outbox."))
        if not is_webhook_url(target.url):
            raise CommandError(gettext("ACCOUNTS_OUTBOX_WEBHOOK_URL must be an http or https URL."))
        using = options["database"]
        if options["dry_run"]:
            self.dry_run(target, using)
            return
        self.deliver(target, using, batch_size=batch_size, progress=not options["no_progress"])

    def dry_run(self, target: delivery.Target, using: str) -> None:
        count = 0
        for message in delivery.due(target, using).iterator(chunk_size=BATCH_SIZE):
            count += 1
            self.stdout.write(
                gettext("would send %(event)s %(id)s (attempt %(attempt)d)")
                % {"event": message.event, "id": message.uuid, "attempt": message.attempts + 1}
            )
        self.stdout.write(
            ngettext(
                "%(count)d message would be sent (dry run).",
                "%(count)d messages would be sent (dry run).",
                count,
            )
            % {"count": count}
        )

    def deliver(
        self, target: delivery.Target, using: str, *, batch_size: int, progress: bool
    ) -> None:
        """Send batch after batch, at most the messages due when the run began."""
        total = delivery.due(target, using).count()
        bar = Progress(
            total,
            label=gettext("Delivering outbox messages"),
            stream=self.stderr._out,  # type: ignore[arg-type]
            enabled=progress,
        )
        delivered = failed = given_up = 0
        while bar.done < total:
            outcomes = delivery.deliver_batch(
                target, batch_size=min(batch_size, total - bar.done), using=using
            )
            if not outcomes:
                break  # the rest is locked by another run, or was delivered meanwhile
            for message, ok in outcomes:
                if ok:
                    delivered += 1
                elif message.attempts >= target.max_attempts:
                    given_up += 1
                    self.stderr.write(
                        gettext("gave up on %(event)s %(id)s: %(error)s")
                        % {"event": message.event, "id": message.uuid, "error": message.last_error}
                    )
                else:
                    failed += 1
            bar.advance(len(outcomes))
        bar.finish()
        self.stdout.write(
            gettext(
                "Delivered %(delivered)d; %(failed)d failed and will be retried; gave up on "
                "%(given_up)d."
            )
            % {"delivered": delivered, "failed": failed, "given_up": given_up}
        )
