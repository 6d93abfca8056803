"""The facade side of the benchmark: fixtures built and transfers made through ``accounts.facade``.

Every ledger row here is written by the facade. Accounts are created in bulk (they are not
ledger rows) with codes of our own, then funded by multi-leg entries from the core source
account, up to the facade's limit of legs per entry.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

#: Balance each random-pair account starts with; far more than any run can spend.
ACCOUNT_FUNDS = Decimal("1000.00")
#: Balance of the hot account every transfer draws on in the hot-source runs.
HOT_FUNDS = Decimal("10000000.00")


def amount(rng: random.Random) -> Decimal:
    """A random amount between 0.01 and 5.00, in the currency's minor units."""
    return Decimal(rng.randint(1, 500)).scaleb(-2)


def make_accounts(
    count: int, *, funds: Decimal = ACCOUNT_FUNDS, prefix: str = "BENCH"
) -> list[int]:
    """Create ``count`` liability accounts (credit limit 0) and fund each with ``funds``."""
    from accounts import facade
    from accounts.models import Account

    Account.objects.bulk_create(
        Account(name=f"{prefix} {i}", code=f"{prefix}-{i:06d}") for i in range(count)
    )
    pks = list(
        Account.objects.filter(code__startswith=f"{prefix}-")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    source = Account.objects.source()
    accounts = list(Account.objects.filter(pk__in=pks).order_by("pk"))
    per_entry = facade.MAX_LEGS_PER_TRANSFER - 1
    for start in range(0, len(accounts), per_entry):
        chunk = accounts[start : start + per_entry]
        lines: list[facade.Debit | facade.Credit] = [facade.Debit(source, funds * len(chunk))]
        lines += [facade.Credit(account, funds) for account in chunk]
        facade.post(lines, description="Benchmark funding")
    return pks


def make_hot_account(funds: Decimal = HOT_FUNDS) -> int:
    """A liability account with a large balance (and a real credit-limit check on each debit)."""
    from accounts import facade
    from accounts.models import Account

    hot = Account.objects.create(name="BENCH hot", code="BENCH-HOT")
    facade.transfer(Account.objects.source(), hot, funds, description="Benchmark funding")
    return hot.pk


@dataclass
class RunResult:
    """Transfers attempted, those that succeeded, the refusals and errors by kind, the time."""

    attempted: int = 0
    succeeded: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    #: CPU time this process spent (Python, Django, the driver; SQLite itself too).
    cpu_seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "attempted": self.attempted,
            "succeeded": self.succeeded,
            "errors": dict(self.errors),
            "seconds": self.seconds,
            "cpu_seconds": self.cpu_seconds,
        }


def describe_error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc).splitlines()[0][:80] if str(exc) else ''}"


def run_transfers(
    accounts: Sequence[Any], count: int, rng: random.Random, *, hot: Any = None
) -> RunResult:
    """Make ``count`` transfers between random pairs of ``accounts`` (or from ``hot``)."""
    from accounts import facade

    return run_pairs(accounts, count, rng, facade.transfer, hot=hot)


def run_pairs(
    accounts: Sequence[Any],
    count: int,
    rng: random.Random,
    transfer: Callable[[Any, Any, Decimal], Any],
    *,
    hot: Any = None,
) -> RunResult:
    """Call ``transfer(source, destination, amount)`` ``count`` times, counting what fails.

    The pairs are random among ``accounts``, or ``hot`` to a random one of them; the facade and
    the raw-SQL baseline draw the same pairs and amounts from the same seed.
    """
    result = RunResult()
    start, cpu_start = time.perf_counter(), time.process_time()
    for _ in range(count):
        if hot is None:
            source, destination = rng.sample(accounts, 2)
        else:
            source, destination = hot, rng.choice(accounts)
        result.attempted += 1
        try:
            transfer(source, destination, amount(rng))
        except Exception as exc:  # counted and reported, never hidden
            result.errors[describe_error(exc)] += 1
        else:
            result.succeeded += 1
    result.seconds = time.perf_counter() - start
    result.cpu_seconds = time.process_time() - cpu_start
    return result


def load_accounts(pks: Sequence[int]) -> list[Any]:
    from accounts.models import Account

    return list(Account.objects.filter(pk__in=list(pks)).order_by("pk"))


def verify() -> dict[str, Any]:
    """Run the ledger verifier (outside every timing) and say whether the books balance."""
    from accounts import reports

    outcome = reports.verify()
    return {
        "ok": outcome.ok,
        "transfers": outcome.transfers_checked,
        "legs": outcome.legs_checked,
        "problems": [f"{p.what}: {p.detail}" for p in outcome.problems[:10]],
    }


# -- the long account for the balance-read scenario --------------------------------------------

#: Statistics are refreshed this often while building (as autovacuum would, where it runs): with
#: statistics from when the account had few legs, PostgreSQL's plan for the triggers' lookups
#: can read every leg of the account on each posting.
ANALYSE_EVERY_LEGS = 10_000

#: Transfers posted inside one caller transaction while building the long account. Larger
#: batches get slower on PostgreSQL: every update of the same row inside one transaction adds a
#: row version that no one can prune until it commits, and each later lookup walks them all.
BUILD_BATCH_SIZE = 100


def build_history(account_pk: int, legs: int) -> tuple[Any, float]:
    """Give ``account_pk`` ``legs`` legs through the facade; return the middle moment and rate.

    Transfers are grouped ``BUILD_BATCH_SIZE`` to a caller's ``transaction.atomic()`` (each one
    joins it, with every check and trigger as usual) so that they do not pay a commit each. The
    rate returned is for these batched transfers.
    """
    from django.db import transaction
    from django.utils import timezone

    from accounts import facade
    from accounts.models import Account

    from .database import LEDGER_TABLES, analyse

    source = Account.objects.source()
    target = Account.objects.get(pk=account_pk)
    middle = None
    posted = 0
    start = time.perf_counter()
    while posted < legs:
        batch = min(BUILD_BATCH_SIZE, legs - posted)
        if middle is None and posted + batch > legs // 2:
            batch = legs // 2 - posted or batch
        with transaction.atomic():
            for _ in range(batch):
                facade.transfer(source, target, Decimal("1.00"), description="History")
        posted += batch
        if posted % ANALYSE_EVERY_LEGS < batch:
            analyse(LEDGER_TABLES)
        if middle is None and posted >= legs // 2:
            time.sleep(0.002)  # keep the middle moment strictly between two legs
            middle = timezone.now()
            time.sleep(0.002)
    rate = legs / (time.perf_counter() - start)
    return middle, rate


#: Transfers per transaction while loading a history in bulk.
LOAD_CHUNK_SIZE = 5000


def load_history(account_pk: int, legs: int) -> Any:
    """Load ``legs`` one-unit transfers into a fresh ``account_pk`` in bulk; return the middle.

    A fixture load, not a posting: the rows are exactly those the facade would write for
    ``legs`` transfers of 1.00 from a funding asset account (one leg each side, running balances
    and versions 1, 2, 3..., a millisecond apart, ending a moment ago), inserted and committed a
    few thousand at a time under :func:`accounts.integrity.unlocked`, the switch ``loaddata``
    and ``flush`` use. The integrity triggers are off while they load; :func:`verify` proves
    the result afterwards (balanced transfers, balances equal to their legs, every running
    balance). Posting 100,000 transfers through the facade instead (``--history-through-facade``)
    takes about ten minutes on the 2-core machine of the published results.
    """
    import datetime

    from django.utils import timezone

    from accounts.models import Account, Kind
    from tests import ledger_rows

    from .database import LEDGER_TABLES, analyse

    target = Account.objects.get(pk=account_pk)
    if target.version != 0:
        raise ValueError("load_history needs an account without legs")
    funding = Account.objects.create(
        name=f"BENCH funding {account_pk}",
        code=f"BENCH-FUNDING-{account_pk}",
        kind=Kind.ASSET,
        credit_limit=None,
        currency=target.currency,
    )
    step = datetime.timedelta(milliseconds=1)
    first_at = timezone.now() - step * (legs + 1)
    # Both balances rise by one unit a leg: a debit-normal asset debited, a credit-normal
    # account credited. PostgreSQL's deferred check that each transfer has all its legs runs at
    # every commit; fresh statistics after each chunk keep its plan an index probe as the table
    # grows.
    ledger_rows.load_transfers(
        funding,
        target,
        [first_at + step * n for n in range(1, legs + 1)],
        amount=Decimal("1.00"),
        description="History",
        chunk_size=LOAD_CHUNK_SIZE,
        after_chunk=lambda: analyse(LEDGER_TABLES),
    )
    return first_at + step * (legs // 2) + step / 2
