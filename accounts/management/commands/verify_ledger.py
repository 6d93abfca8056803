"""Prove that the books balance and that no stored balance has drifted from its legs."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts import reports
from accounts.management.base import TranslatedCommand


class Command(TranslatedCommand):
    help = _(
        "Check that every transfer's legs sum to zero per currency, every stored balance equals "
        "the sum of its legs, every running balance follows from the one before, and the "
        "accounting equation holds. Prints each difference and exits non-zero if there is any."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        result = reports.verify()
        for problem in result.problems:
            self.stdout.write(
                gettext("%(what)s: %(detail)s") % {"what": problem.what, "detail": problem.detail}
            )
        # Translators: transfers, legs and accounts are "3 transfers", "6 legs", "4 accounts".
        transfers, legs = result.transfers_checked, result.legs_checked
        accounts = result.accounts_checked
        summary = gettext("%(transfers)s, %(legs)s and %(accounts)s checked") % {
            "transfers": ngettext("%(count)d transfer", "%(count)d transfers", transfers)
            % {"count": transfers},
            "legs": ngettext("%(count)d leg", "%(count)d legs", legs) % {"count": legs},
            "accounts": ngettext("%(count)d account", "%(count)d accounts", accounts)
            % {"count": accounts},
        }
        if not result.ok:
            raise CommandError(
                ngettext(
                    "%(count)d problem found; %(summary)s.",
                    "%(count)d problems found; %(summary)s.",
                    len(result.problems),
                )
                % {"count": len(result.problems), "summary": summary}
            )
        self.stdout.write(
            self.style.SUCCESS(gettext("The ledger balances: %(summary)s.") % {"summary": summary})
        )
