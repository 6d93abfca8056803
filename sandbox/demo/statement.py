"""A bank statement of the shared house's month, as its bank would export it (CSV).

``manage.py demo_statement`` writes it, to try the dashboard's bank statements on the sandbox:
every line but one is already in the house's books (match it with its transfer), and one is not
(the bank's monthly fee: post it to an account). It is made from the ledger's own legs on the
house's bank account, so its dates follow the day the demo was loaded.
"""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal

from django.utils import timezone

from accounts.models import Account, Transaction

#: How the bank describes each of the house's postings: (type, description), by the books' text.
BANK_TEXTS = {
    "Weekly shop": ("CARD PAYMENT", "CO-OP GROUP 114 ELM RD"),
    "Supermarket: food, and cleaning things for the house": ("CARD PAYMENT", "SAINSBURYS S/MKT"),
    "Electricity bill paid": ("DIRECT DEBIT", "OCTOPUS ENERGY"),
    "Broadband": ("DIRECT DEBIT", "BT BROADBAND"),
    "Water": ("DIRECT DEBIT", "THAMES WATER"),
}
#: The one line the books do not have yet: (days ago, type, description, signed amount).
BANK_FEE = (1, "SERVICE CHARGE", "MONTHLY ACCOUNT FEE", Decimal("-3.50"))
#: The posting that is the statement's opening balance rather than one of its lines.
OPENING_TEXT = "Balance brought forward from last year"
HEADER = ["Date", "Type", "Description", "Paid out", "Paid in", "Balance"]


def _bank_text(description: str) -> tuple[str, str]:
    if description.startswith("Rent: "):
        return "FASTER PAYMENT", f"{description.removeprefix('Rent: ').upper()} RENT"
    return BANK_TEXTS.get(description, ("OTHER", description.upper()))


def _legs(bank: Account) -> list[Transaction]:
    return list(
        Transaction.objects.filter(account=bank)
        .select_related("transfer")
        .order_by("created_at", "pk")
    )


def opening_balance(legs: list[Transaction]) -> Decimal:
    """What the bank held before the month: the opening posting (money in is a debit, < 0)."""
    return -sum(
        (leg.amount for leg in legs if leg.transfer.description == OPENING_TEXT), Decimal(0)
    )


def lines(legs: list[Transaction]) -> list[tuple[datetime.date, str, str, Decimal]]:
    """The statement's lines, oldest first: day, type, description, amount (money in > 0)."""
    found = []
    for leg in legs:
        if leg.transfer.description == OPENING_TEXT:
            continue
        kind, text = _bank_text(leg.transfer.description)
        # Legs are credit-positive; money into an asset is a debit.
        found.append((timezone.localdate(leg.created_at), kind, text, -leg.amount))
    days_ago, kind, text, amount = BANK_FEE
    fee_day = timezone.localdate() - datetime.timedelta(days=days_ago)
    found.append((fee_day, kind, text, amount))
    found.sort(key=lambda line: line[0])
    return found


def render(bank: Account) -> str:
    """The statement as a UK bank's CSV: day-first dates, paid out and paid in, a balance."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    legs = _legs(bank)
    balance = opening_balance(legs)
    for day, kind, text, amount in lines(legs):
        balance += amount
        paid_out = f"{-amount:.2f}" if amount < 0 else ""
        paid_in = f"{amount:.2f}" if amount > 0 else ""
        writer.writerow([day.strftime("%d/%m/%Y"), kind, text, paid_out, paid_in, f"{balance:.2f}"])
    return out.getvalue()
