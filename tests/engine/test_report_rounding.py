"""The verifier's sums stay exact where the database sums money as floating point (SQLite)."""

from __future__ import annotations

from decimal import Decimal

from accounts import facade, reports

from ..factories import AccountFactory

# Twenty balances whose floating-point sum is 9520.58000000001 rather than 9520.58.
AMOUNTS = [
    "612.22", "890.91", "234.73", "986.12", "118.63", "565.38", "315.47", "66.23", "767.08",
    "188.35", "863.10", "944.27", "546.35", "772.71", "363.08", "498.29", "223.58", "1.78",
    "113.36", "448.94",
]  # fmt: skip


def test_the_accounting_equation_holds_when_balances_sum_inexactly_as_floats(source):
    cards = AccountFactory.create_batch(len(AMOUNTS))
    total = sum((Decimal(a) for a in AMOUNTS), Decimal(0))
    lines: list[facade.Debit | facade.Credit] = [facade.Debit(source, total)]
    lines += [facade.Credit(card, Decimal(a)) for card, a in zip(cards, AMOUNTS)]
    facade.post(lines)

    equation = reports.accounting_equation()

    assert equation.holds
    assert equation.right[source.currency] == total
    assert reports.verify().ok
