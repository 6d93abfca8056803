"""The books' report pages: the profit and loss and the balance sheet, each with its CSV.

Both list accounts in tree order with placeholders summing what is below them, one column per
currency (amounts of different currencies are never added). Customer cards are many and their
codes are secrets, so the balance sheet shows them as one line per currency (how many, and what
they hold together) instead of one line per card.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from accounts import reports
from accounts.money import Balance

from .common import csv_amount
from .filter_forms import AsOfForm, PeriodForm
from .form_fields import DayField, day_end
from .report_views import ReportView, _currencies


class BalanceSheetForm(AsOfForm):
    compare = DayField(label=gettext_lazy("Compare with the end of"), required=False)

    def comparison(self) -> datetime.datetime | None:
        day = self.cleaned_data.get("compare")
        if day is None:
            return None
        return day_end(day) - datetime.timedelta(microseconds=1)


def _line(
    label: str, name: str, amounts: Sequence[Balance], currencies: list[str], **extra: Any
) -> dict[str, Any]:
    """A table row: its label, its CSV name and, per currency, each column's amount."""
    return {
        "label": label,
        "name": name,
        "cells": [(c, [amount[c] for amount in amounts]) for c in currencies],
        **extra,
    }


def _account_lines(
    rows: Sequence[reports.BookRow], others: Sequence[dict[int, Balance]], currencies: list[str]
) -> list[dict[str, Any]]:
    """One line per account in tree order; cards folded into one line after the others."""
    lines: list[dict[str, Any]] = []
    cards = [Balance() for _ in range(1 + len(others))]
    card_count = 0
    for row in rows:
        amounts = [row.amount, *(other.get(row.account.pk, Balance()) for other in others)]
        if not any(amount.currencies() for amount in amounts):
            continue  # nothing in any column: an empty account of the chart
        if row.account.is_card:
            card_count += 1
            cards = [total + amount for total, amount in zip(cards, amounts, strict=True)]
            continue
        lines.append(
            _line(
                str(row.account.name or row.account.code),
                row.account.code,
                amounts,
                currencies,
                depth=row.depth,
                placeholder=row.is_placeholder,
                account=row.account,
            )
        )
    if card_count:
        label = gettext("Customer cards (%(count)d)") % {"count": card_count}
        lines.append(_line(label, "customer cards", cards, currencies, depth=0, placeholder=False))
    return lines


def _by_pk(rows: Iterable[reports.BookRow]) -> dict[int, Balance]:
    return {row.account.pk: row.amount for row in rows}


class ProfitAndLossView(ReportView):
    """Income and expenses of a period per account, and the net income."""

    template_name = "accounts/dashboard/reports/profit_and_loss.html"
    form_class = PeriodForm
    csv_name = "profit-and-loss.csv"

    def get_form(self) -> forms.Form:
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
        pnl = reports.profit_and_loss(start, end)
        currencies = _currencies(pnl.income, pnl.expenses)
        sections = [
            {
                "title": gettext("Income"),
                "lines": _account_lines(pnl.income_rows, [], currencies),
                "total": _line(gettext("Total income"), "total income", [pnl.income], currencies),
            },
            {
                "title": gettext("Expenses"),
                "lines": _account_lines(pnl.expense_rows, [], currencies),
                "total": _line(
                    gettext("Total expenses"), "total expenses", [pnl.expenses], currencies
                ),
            },
        ]
        net = _line(gettext("Net income"), "net income", [pnl.net_income], currencies)
        return {
            "result": pnl,
            "start": start,
            "last_day": end - datetime.timedelta(days=1) if end is not None else None,
            "currencies": currencies,
            "sections": sections,
            "net": net,
            "columns": [None],
            "width": 1 + len(currencies),
        }

    def csv_rows(self, figures: dict[str, Any]) -> tuple[Sequence[str], Iterable[Sequence[Any]]]:
        rows = _csv(figures, ["income", "expenses"])
        for currency, amounts in figures["net"]["cells"]:
            rows.append(["net income", "net income", currency, csv_amount(amounts[0], currency)])
        return ["section", "code", "currency", "amount"], rows


class BalanceSheetView(ReportView):
    """Assets against liabilities, equity and retained earnings, with a comparison column."""

    template_name = "accounts/dashboard/reports/balance_sheet.html"
    form_class = BalanceSheetForm
    csv_name = "balance-sheet.csv"

    def compute(self, form: Any) -> dict[str, Any]:
        valid = form.is_bound and form.is_valid()
        as_of = form.moment() if valid else None
        compare = form.comparison() if valid else None
        sheet = reports.balance_sheet(as_of)
        before = reports.balance_sheet(compare) if compare is not None else None
        sheets = [sheet] if before is None else [sheet, before]
        currencies = _currencies(
            *(s.assets for s in sheets), *(s.liabilities_and_equity for s in sheets)
        )
        sections = []
        for title, name, rows_of, total_of in (
            (gettext("Assets"), "assets", "asset_rows", "assets"),
            (gettext("Liabilities"), "liabilities", "liability_rows", "liabilities"),
            (gettext("Equity"), "equity", "equity_rows", "equity"),
            (gettext("Trading (exchange differences)"), "trading", "trading_rows", "trading"),
        ):
            others = [_by_pk(getattr(before, rows_of))] if before is not None else []
            lines = _account_lines(getattr(sheet, rows_of), others, currencies)
            if name == "equity":
                lines.append(
                    _line(
                        gettext("Retained earnings (income less expenses to date)"),
                        "retained earnings",
                        [s.retained_earnings for s in sheets],
                        currencies,
                        depth=0,
                        placeholder=False,
                    )
                )
            totals = [getattr(s, total_of) for s in sheets]
            if name == "equity":
                totals = [s.equity + s.retained_earnings for s in sheets]
            if name == "trading" and not any(t.currencies() for t in totals):
                continue
            sections.append(
                {
                    "title": title,
                    "name": name,
                    "lines": lines,
                    "total": _line(gettext("Total"), f"total {name}", totals, currencies),
                }
            )
        return {
            "as_of": as_of,
            "compare": compare,
            "currencies": currencies,
            "sections": sections,
            "columns": [as_of or timezone.now(), compare] if compare is not None else [None],
            "width": 1 + len(currencies) * len(sheets),
            "balances": [s.balances for s in sheets],
            "check": _line(
                gettext("Liabilities, equity, retained earnings and trading"),
                "liabilities and equity",
                [s.liabilities_and_equity for s in sheets],
                currencies,
            ),
        }

    def csv_rows(self, figures: dict[str, Any]) -> tuple[Sequence[str], Iterable[Sequence[Any]]]:
        names = [section["name"] for section in figures["sections"]]
        header = ["section", "code", "currency", "amount"]
        if figures["compare"] is not None:
            header.append("comparison")
        return header, _csv(figures, names)


def _csv(figures: dict[str, Any], names: list[str]) -> list[list[Any]]:
    """One CSV row per line and currency: the section, the line's code or name, the amounts."""
    rows: list[list[Any]] = []
    for name, section in zip(names, figures["sections"], strict=True):
        for line in [*section["lines"], section["total"]]:
            for currency, amounts in line["cells"]:
                rows.append(
                    [name, line["name"], currency]
                    + [csv_amount(Decimal(amount), currency) for amount in amounts]
                )
    return rows
