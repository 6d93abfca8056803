"""Import a bank statement file (CSV, CAMT.053 or OFX/QFX) into a bank account."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts import exceptions, statements
from accounts.management.base import TranslatedCommand
from accounts.models import Account, StatementFormat
from accounts.progress import Progress


class Command(TranslatedCommand):
    help = _(
        "Import a bank statement (CSV, CAMT.053 or OFX/QFX) into the bank account with the given "
        "code. Lines already imported are skipped; a file with rejected rows imports nothing "
        "unless --allow-partial is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("bank_account_code", help=gettext("The bank account's code."))
        parser.add_argument("file", help=gettext("The statement file."))
        parser.add_argument(
            "--format",
            choices=[*(choice.value for choice in StatementFormat), *statements.FORMAT_ALIASES],
            default=None,
            help=gettext("The file's format (default: detected from its content)."),
        )
        parser.add_argument(
            "--date-order",
            choices=statements.DateOrder.CHOICES,
            default=None,
            help=gettext("How to read dates such as 03/04/2026 (default: guessed from the file)."),
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help=gettext("Count what would be imported; change nothing."),
        )
        parser.add_argument(
            "--allow-partial",
            action="store_true",
            help=gettext("Import the valid rows of a file that has rejected rows."),
        )
        parser.add_argument(
            "--no-rules", action="store_true", help=gettext("Do not apply the matching rules.")
        )
        parser.add_argument(
            "--no-progress", action="store_true", help=gettext("Do not draw a progress bar.")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            bank_account = Account.objects.get(code=options["bank_account_code"])
        except Account.DoesNotExist as error:
            raise CommandError(
                gettext("No account has the code %(code)s.")
                % {"code": options["bank_account_code"]}
            ) from error
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(gettext("No such file: %(path)s.") % {"path": path})
        bar: list[Progress] = []

        def on_progress(done: int, total: int) -> None:
            if not bar:
                bar.append(
                    Progress(
                        total,
                        label=gettext("Importing statement lines"),
                        stream=self.stderr._out,  # type: ignore[arg-type]
                        enabled=not options["no_progress"],
                    )
                )
            bar[0].advance(done - bar[0].done)

        try:
            with path.open("rb") as stream:
                result = statements.import_statement(
                    bank_account,
                    stream,
                    file_name=path.name,
                    statement_format=options["format"],
                    date_order=options["date_order"],
                    allow_partial=options["allow_partial"],
                    dry_run=options["dry_run"],
                    apply_rules=not options["no_rules"],
                    on_progress=on_progress,
                )
        except exceptions.StatementHasRejectedRows as error:
            for rejection in error.rejections:
                self.stderr.write(gettext("row %(row)s: %(reason)s") % rejection.as_dict())  # type: ignore[attr-defined]
            raise CommandError(error.message) from error
        except exceptions.AccountException as error:
            raise CommandError(error.message) from error
        finally:
            if bar:
                bar[0].finish()
        self.report(result)

    def report(self, result: statements.ImportResult) -> None:
        for rejection in result.rejections:
            self.stderr.write(gettext("row %(row)s: %(reason)s") % rejection.as_dict())
        summary = gettext(
            "%(added)d lines added, %(duplicate)d duplicates skipped, %(rejected)d rows "
            "rejected, %(ruled)d lines reconciled by rules."
        ) % {
            "added": result.lines_added,
            "duplicate": result.lines_duplicate,
            "rejected": result.lines_rejected,
            "ruled": result.lines_reconciled_by_rules,
        }
        if result.dry_run:
            summary += " " + gettext("(dry run: nothing was written)")
        self.stdout.write(summary)
