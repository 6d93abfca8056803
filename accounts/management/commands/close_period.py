"""Close the books through a day, optionally with the year-end closing entry."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts import exceptions, facade, money
from accounts.management.base import TranslatedCommand, user_named
from accounts.models import ClosedPeriod


def _day(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise CommandError(
            gettext("%(text)s is not a day: give it as YYYY-MM-DD.") % {"text": text}
        ) from None


def _user(username: str | None) -> Any:
    if username is None:
        return None
    user = user_named(username)
    if user is None:
        raise CommandError(gettext("No user is called %(name)s.") % {"name": username})
    return user


class Command(TranslatedCommand):
    help = _(
        "Close the books through a day (YYYY-MM-DD, in the site's time zone): afterwards nothing "
        "may be posted dated on or before it. The closing only moves forward and cannot be "
        "undone. With --closing-entry, the same transaction moves every income and expense "
        "balance into the retained-earnings account (ACCOUNTS_RETAINED_EARNINGS)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("through", help=gettext("The last day to close, as YYYY-MM-DD."))
        parser.add_argument(
            "--closing-entry",
            action="store_true",
            help=gettext("Also post the year-end closing entry into retained earnings."),
        )
        parser.add_argument("--reason", help=gettext("Why the books are closed, recorded."))
        parser.add_argument(
            "--user", help=gettext("The username recorded as having closed the books.")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        through = _day(options["through"])
        user = _user(options["user"])
        try:
            closing = facade.close_period(
                through,
                user=user,
                reason=options["reason"],
                closing_entry=options["closing_entry"],
            )
        except exceptions.AccountException as error:
            raise CommandError(error.message) from error
        self.stdout.write(
            gettext("The books are closed through %(day)s.") % {"day": through.isoformat()}
        )
        if options["closing_entry"]:
            self._describe_entries(closing)

    def _describe_entries(self, closing: ClosedPeriod) -> None:
        entries = list(closing.closing_entries().order_by("pk"))
        for entry in entries:
            self.stdout.write(
                gettext("closing entry %(reference)s: %(amount)s %(currency)s")
                % {
                    "reference": entry.reference,
                    "amount": money.format_amount(entry.amount, entry.currency),
                    "currency": entry.currency,
                }
            )
        self.stdout.write(
            ngettext(
                "%(count)d closing entry posted.",
                "%(count)d closing entries posted.",
                len(entries),
            )
            % {"count": len(entries)}
        )
