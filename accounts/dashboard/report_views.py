"""Report pages of the staff dashboard, each with a CSV download of the same figures.

Every figure comes from :mod:`accounts.reports`, whose functions are a fixed number of
aggregate queries whatever the number of accounts; these views only arrange the results.
Amounts in different currencies are never added together: each table has one column or one
section per currency.

Codes follow :func:`~accounts.dashboard.common.shown_code`: a card's code is masked on these
pages for staff without ``accounts.view_card_code``, and in every CSV for everyone (a file
outlives the page). Rows are ordered by the code as shown, so the order of the rows cannot
tell what a masked code is either.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.paginator import Paginator
from django.forms import Form
from django.http import HttpRequest, HttpResponseBase
from django.utils import timezone
from django.utils.translation import gettext
from django.views import View
from django.views.generic import TemplateView
from django.views.generic.base import ContextMixin, TemplateResponseMixin

from accounts import reports
from accounts.models import Account, Kind, kind_rank
from accounts.money import Balance
from accounts.vocabulary import EQUATION_LEFT, EQUATION_RIGHT

from .common import (
    PAGE_SIZE,
    StaffPermissionRequiredMixin,
    bad_filter_response,
    csv_amount,
    csv_response,
    may_see_card_codes,
    shown_code,
)
from .filter_forms import AsOfForm, PeriodForm, TreeFilterForm

# The CSV downloads' header rows are column identifiers for the programs that read the files:
# English codes whatever the language of the page, never translated. So are the values that
# name a category (a kind, a bucket, a line of the gift-card flows), as in the ledger.


def _currencies(*balances: Balance) -> list[str]:
    found: set[str] = set()
    for balance in balances:
        found.update(currency for currency, _ in balance.items())
    return sorted(found)


class ReportListView(StaffPermissionRequiredMixin, TemplateView):
    permission_required = "accounts.view_reports"
    template_name = "accounts/dashboard/reports/index.html"


class ReportView(StaffPermissionRequiredMixin, TemplateResponseMixin, ContextMixin, View):
    """A report page; the same view with ``as_csv=True`` serves the CSV download."""

    permission_required = "accounts.view_reports"
    form_class: type[Form] = AsOfForm
    as_csv = False
    csv_name = "report.csv"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        form = self.get_form()
        if self.as_csv and form.is_bound and not form.is_valid():
            return bad_filter_response(form)
        figures = self.compute(form)
        if self.as_csv:
            header, rows = self.csv_rows(figures)
            return csv_response(self.csv_name, header, rows)
        return self.render_to_response(self.get_context_data(form=form, **figures))

    def get_form(self) -> Form:
        form = self.form_class(self.request.GET or None)
        form.is_valid()  # unbound forms and bad input fall back to the defaults
        return form

    def compute(self, form: Any) -> dict[str, Any]:
        raise NotImplementedError

    def full_codes(self) -> bool:
        """Whether this response may show cards' codes in full: pages for holders only."""
        return not self.as_csv and may_see_card_codes(self.request.user)

    def csv_rows(self, figures: dict[str, Any]) -> tuple[Sequence[str], Iterable[Sequence[Any]]]:
        raise NotImplementedError


def _as_of(form: AsOfForm) -> datetime.datetime | None:
    return form.moment() if form.is_bound and form.is_valid() else None


class TrialBalanceView(ReportView):
    """Leaf accounts' debit and credit balances per currency, and the accounting equation."""

    template_name = "accounts/dashboard/reports/trial_balance.html"
    csv_name = "trial-balance.csv"

    def compute(self, form: Any) -> dict[str, Any]:
        as_of = _as_of(form)
        trial = reports.trial_balance(as_of)
        equation = reports.accounting_equation(as_of)
        full = self.full_codes()

        def order(row: reports.TrialBalanceRow) -> tuple[int, str, int]:
            # Accounting order (assets first), as the accountant reading it expects.
            return (kind_rank(row.account.kind), shown_code(row.account, full=full), row.account.pk)

        sections = []
        for currency in _currencies(trial.debits, trial.credits):
            rows = [r for r in trial.rows if r.account.currency == currency]
            sections.append(
                {
                    "currency": currency,
                    "rows": sorted(rows, key=order),
                    "debits": trial.debits[currency],
                    "credits": trial.credits[currency],
                    "balanced": trial.debits[currency] == trial.credits[currency],
                }
            )
        kinds = [*EQUATION_LEFT, *EQUATION_RIGHT]
        equation_rows = []
        for currency in _currencies(*equation.totals.values()):
            totals = {k: equation.totals.get(k, Balance())[currency] for k in kinds}
            equation_rows.append(
                {
                    "currency": currency,
                    "left": [(Kind(k).label, totals[k]) for k in EQUATION_LEFT],
                    "right": [(Kind(k).label, totals[k]) for k in EQUATION_RIGHT],
                    "left_total": equation.left[currency],
                    "right_total": equation.right[currency],
                    "holds": equation.left[currency] == equation.right[currency],
                }
            )
        return {
            "as_of": as_of,
            "trial": trial,
            "sections": sections,
            "equation_rows": equation_rows,
            "equation_holds": equation.holds,
        }

    def csv_rows(self, figures: dict[str, Any]) -> tuple[Sequence[str], Iterable[Sequence[Any]]]:
        rows = [
            [
                row.account.currency,
                row.account.display_code,
                row.account.name,
                row.account.kind,
                csv_amount(row.debit, row.account.currency),
                csv_amount(row.credit, row.account.currency),
            ]
            for section in figures["sections"]
            for row in section["rows"]
        ]
        return ["currency", "code", "name", "kind", "debit", "credit"], rows


def tree_order(accounts: Iterable[Account], *, full_codes: bool = True) -> list[Account]:
    """Put every account right after its parent, and siblings in order of code.

    ``tree_path`` holds one random token per level; the key replaces each token by the code
    of the account it names (when that account is in the list), keeping the token to tell
    apart accounts that share a code prefix. Without ``full_codes``, cards are ordered by
    their masked codes.
    """
    accounts = list(accounts)
    code_of = {
        a.tree_path.rstrip("/").rsplit("/", 1)[-1]: shown_code(a, full=full_codes) for a in accounts
    }

    def key(account: Account) -> tuple[tuple[str, str], ...]:
        tokens = [part for part in account.tree_path.split("/") if part]
        return tuple((code_of.get(token, ""), token) for token in tokens)

    return sorted(accounts, key=key)


class AccountTreeView(ReportView):
    """Every account under its parent, with balances rolled up over its descendants."""

    template_name = "accounts/dashboard/reports/account_tree.html"
    form_class = TreeFilterForm
    csv_name = "account-tree.csv"

    def compute(self, form: Any) -> dict[str, Any]:
        accounts = Account.objects.with_balances().only(
            "pk", "code", "is_card", "name", "kind", "currency", "status", "tree_path", "parent"
        )
        if form.is_bound and form.is_valid():
            if form.cleaned_data["kind"]:
                accounts = accounts.filter(kind=form.cleaned_data["kind"])
            if form.cleaned_data["currency"]:
                accounts = accounts.filter(currency=form.cleaned_data["currency"])
        ordered = tree_order(accounts, full_codes=self.full_codes())
        # An account's parent is named by the second-to-last token of its path.
        parents = {a.tree_path.split("/")[-3] for a in ordered if a.depth > 0}
        for account in ordered:
            account.is_parent = account.tree_path.split("/")[-2] in parents  # type: ignore[attr-defined]
        page = Paginator(ordered, PAGE_SIZE).get_page(self.request.GET.get("page"))
        return {"accounts": ordered, "page_obj": page}

    def csv_rows(self, figures: dict[str, Any]) -> tuple[Sequence[str], Iterable[Sequence[Any]]]:
        rows = [
            [
                account.depth,
                account.display_code,
                account.name,
                account.kind,
                account.currency,
                csv_amount(account.rollup_balance, account.currency),
            ]
            for account in figures["accounts"]
        ]
        return ["depth", "code", "name", "kind", "currency", "balance"], rows


class DeferredIncomeView(ReportView):
    """What customers' accounts still hold, by how soon they expire."""

    template_name = "accounts/dashboard/reports/deferred_income.html"
    csv_name = "deferred-income.csv"

    def compute(self, form: Any) -> dict[str, Any]:
        as_of = _as_of(form)
        buckets = reports.deferred_income(as_of)
        currencies = _currencies(*buckets.values())
        total = sum(buckets.values(), Balance())
        rows = [
            {
                # The key, for the CSV; the label, in the reader's language, for the page.
                "bucket": name,
                "label": reports.DEFERRED_BUCKET_LABELS[name],
                "cells": [(c, buckets[name][c]) for c in currencies],
            }
            for name in reports.DEFERRED_BUCKET_KEYS
            if name in buckets
        ]
        return {
            "as_of": as_of or timezone.now(),
            "currencies": currencies,
            "rows": rows,
            "totals": [(c, total[c]) for c in currencies],
        }

    def csv_rows(self, figures: dict[str, Any]) -> tuple[Sequence[str], Iterable[Sequence[Any]]]:
        rows = [
            [row["bucket"], currency, csv_amount(amount, currency)]
            for row in figures["rows"]
            for currency, amount in row["cells"]
        ]
        return ["bucket", "currency", "amount"], rows


class GiftCardFlowsView(ReportView):
    """What moved through the cards in a period: loads per source, redemptions, expiries,
    refunds, reversals."""

    template_name = "accounts/dashboard/reports/gift_card_flows.html"
    form_class = PeriodForm
    csv_name = "gift-card-flows.csv"

    def get_form(self) -> Form:
        # Without a period asked for, show the current month so far.
        today = timezone.localdate()
        data = self.request.GET.copy()
        if not data.get("start") and not data.get("end"):
            data["start"] = today.replace(day=1).isoformat()
            data["end"] = today.isoformat()
        form = self.form_class(data)
        form.is_valid()
        return form

    def compute(self, form: Any) -> dict[str, Any]:
        start, end = form.bounds() if form.is_valid() else (None, None)
        result = reports.gift_card_flows(start, end)
        # Each line: its name in the CSV (English, see above), its label on the page, amounts.
        lines: list[tuple[str, str, Balance]] = [
            (
                f"Loaded from {name}",
                gettext("Loaded from %(source)s") % {"source": name},
                amount,
            )
            for name, amount in sorted(result.loads.items())
        ]
        lines += [
            ("Redemptions", gettext("Redemptions"), result.redemptions),
            ("Expiries", gettext("Expiries"), result.expiries),
            (
                "Refunds paid back from income",
                gettext("Refunds paid back from income"),
                result.refunds,
            ),
            (
                "Reversals paid back from income",
                gettext("Reversals paid back from income"),
                result.reversals,
            ),
        ]
        income_line = (
            "Income (redemptions + expiries − refunds − reversals)",
            gettext("Income (redemptions + expiries − refunds − reversals)"),
            result.income,
        )
        currencies = _currencies(*(amount for _, _, amount in lines), result.income)
        rows = [
            {"line": line, "label": label, "cells": [(c, amount[c]) for c in currencies]}
            for line, label, amount in [*lines, income_line]
        ]
        last_day = end - datetime.timedelta(days=1) if end is not None else None
        return {
            "result": result,
            "start": start,
            "last_day": last_day,
            "currencies": currencies,
            "rows": rows,
        }

    def csv_rows(self, figures: dict[str, Any]) -> tuple[Sequence[str], Iterable[Sequence[Any]]]:
        rows = [
            [row["line"], currency, csv_amount(amount, currency)]
            for row in figures["rows"]
            for currency, amount in row["cells"]
        ]
        return ["line", "currency", "amount"], rows
