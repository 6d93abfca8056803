"""Running balances, balances as of a moment, and account statements.

Every leg stores its account's balance after it and the account's version, so an as-of balance
is one indexed lookup and a statement page is a fixed number of queries, however long the
account's history. The last part of this module proves that on an account of 10,000 legs by
counting queries and reading each database's query plan (never by timing).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts import facade, reports
from accounts.models import Account, Kind, Transaction
from accounts.money import Balance

from .. import ledger_rows

pytestmark = pytest.mark.django_db

START = datetime.datetime(2024, 3, 1, 9, 0, tzinfo=datetime.timezone.utc)
MINUTE = datetime.timedelta(minutes=1)
TICK = datetime.timedelta(microseconds=1)


@contextmanager
def clock(moment: datetime.datetime) -> Iterator[None]:
    """Make the facade post at ``moment`` (every call to now() returns it)."""
    with mock.patch("accounts.facade.timezone.now", return_value=moment):
        yield


def make(name: str, kind: str, **fields) -> Account:
    fields.setdefault("credit_limit", None)
    return Account.objects.create(name=name, kind=kind, **fields)


@pytest.fixture
def bank():
    return make("Bank", Kind.ASSET)


@pytest.fixture
def wallet():
    """A customer's wallet: a liability that may not go below zero."""
    return make("Wallet", Kind.LIABILITY, credit_limit=Decimal("0"))


def history(account: Account) -> list[tuple[int, Decimal, Decimal]]:
    return list(
        Transaction.objects.filter(account=account)
        .order_by("account_version")
        .values_list("account_version", "amount", "balance_after")
    )


# -- running balances ------------------------------------------------------------------------


def test_each_leg_records_its_accounts_balance_after_it(bank, wallet):
    facade.transfer(bank, wallet, Decimal("50.00"))
    facade.transfer(wallet, bank, Decimal("20.00"))
    facade.transfer(bank, wallet, Decimal("5.25"))

    assert history(wallet) == [
        (1, Decimal("50"), Decimal("50")),
        (2, Decimal("-20"), Decimal("30")),
        (3, Decimal("5.25"), Decimal("35.25")),
    ]
    # The bank is an asset: its legs are the mirror image, its balance in natural sign.
    assert history(bank) == [
        (1, Decimal("-50"), Decimal("50")),
        (2, Decimal("20"), Decimal("30")),
        (3, Decimal("-5.25"), Decimal("35.25")),
    ]
    wallet.refresh_from_db()
    assert (wallet.balance, wallet.version) == (Decimal("35.25"), 3)


def test_the_balance_as_of_a_moment_is_the_balance_after_the_last_leg_by_then(bank, wallet):
    for minutes, amount in [(0, "10"), (10, "20"), (20, "40")]:
        with clock(START + minutes * MINUTE):
            facade.transfer(bank, wallet, Decimal(amount))

    expected = {
        START - TICK: 0,
        START: 10,
        START + 5 * MINUTE: 10,
        START + 10 * MINUTE - TICK: 10,
        START + 10 * MINUTE: 30,
        START + 20 * MINUTE: 70,
        START + 365 * 24 * 60 * MINUTE: 70,
    }
    assert {moment: wallet.get_balance(as_of=moment) for moment in expected} == expected
    assert bank.get_balance(as_of=START + 10 * MINUTE) == Decimal("30")
    assert wallet.get_balance() == Decimal("70")


def test_reading_a_balance_as_of_a_moment_is_one_query(bank, wallet, django_assert_num_queries):
    facade.transfer(bank, wallet, Decimal("10"))
    with django_assert_num_queries(1):
        wallet.get_balance(as_of=START)


def test_a_leaf_balance_as_of_a_moment_reads_only_its_own_legs(bank, wallet):
    facade.transfer(bank, wallet, Decimal("10"))
    for read in (wallet.get_balance, wallet.get_balances):
        [sql] = captured_sql(lambda read=read: read(as_of=START))
        # No roll-up over the accounts table for an account without children, and no grouped
        # aggregate: each step is a probe of an index, not a read of a range of legs.
        assert "tree_path" not in sql
        assert "GROUP BY" not in sql.upper()


def test_an_account_without_legs_has_a_zero_balance_at_any_moment(wallet):
    assert wallet.get_balance(as_of=START) == 0
    assert wallet.get_balances(as_of=START) == Balance()
    [row] = Account.objects.with_balances(as_of=START).filter(pk=wallet.pk)
    assert row.rollup_balance == 0


def test_of_legs_at_the_same_instant_the_highest_version_is_the_balance_then(bank, wallet):
    with clock(START):
        facade.transfer(bank, wallet, Decimal("10"))
        facade.transfer(wallet, bank, Decimal("4"))
    with clock(START + MINUTE):
        facade.transfer(bank, wallet, Decimal("5"))

    expected = {START - TICK: 0, START: 6, START + MINUTE - TICK: 6, START + MINUTE: 11}
    assert {moment: wallet.get_balance(as_of=moment) for moment in expected} == expected
    assert {moment: wallet.get_balances(as_of=moment)[wallet.currency] for moment in expected} == (
        expected
    )
    rolled_up = {
        moment: Account.objects.with_balances(as_of=moment).get(pk=wallet.pk).rollup_balance
        for moment in expected
    }
    assert rolled_up == expected
    # The bank is an asset: the same legs, in its natural sign.
    assert bank.get_balance(as_of=START) == Decimal("6")


def test_legs_posted_at_the_same_instant_keep_the_order_they_were_posted_in(bank, wallet):
    amounts = ["30", "-10", "25", "-45", "7"]
    with clock(START):
        for amount in amounts:
            value = Decimal(amount)
            if value > 0:
                facade.transfer(bank, wallet, value)
            else:
                facade.transfer(wallet, bank, -value)

    legs = list(
        Transaction.objects.filter(account=wallet).order_by("created_at", "account_version")
    )
    assert {leg.created_at for leg in legs} == {START}
    assert [leg.amount for leg in legs] == [Decimal(a) for a in amounts]
    assert [leg.balance_after for leg in legs] == [30, 20, 45, 0, 7]
    assert wallet.get_balance(as_of=START) == Decimal("7")
    assert wallet.get_balance(as_of=START - TICK) == 0
    lines = reports.statement(wallet).lines
    assert [line.amount for line in lines] == [Decimal(a) for a in amounts]
    assert [line.balance for line in lines] == [30, 20, 45, 0, 7]


def test_a_clock_that_steps_back_never_dates_a_leg_before_the_one_before_it(bank, wallet):
    with clock(START + MINUTE):
        facade.transfer(bank, wallet, Decimal("10"))
    # Another server, or an NTP correction, puts the clock a little behind the last posting.
    with clock(START):
        facade.transfer(bank, wallet, Decimal("5"))

    legs = list(Transaction.objects.filter(account=wallet).order_by("account_version"))
    assert [leg.created_at for leg in legs] == [START + MINUTE, START + MINUTE]
    assert not any(leg.backdated for leg in legs)
    assert wallet.get_balance(as_of=START + MINUTE) == Decimal("15")
    assert [line.balance for line in reports.statement(wallet).lines] == [10, 15]


# -- statements ------------------------------------------------------------------------------


def post_daily(bank: Account, wallet: Account, amounts: list[str]) -> None:
    """Post one transfer a day from START: positive loads the wallet, negative spends it."""
    for day, amount in enumerate(amounts):
        value = Decimal(amount)
        with clock(START + datetime.timedelta(days=day)):
            if value > 0:
                facade.transfer(bank, wallet, value, description=f"Day {day}")
            else:
                facade.transfer(wallet, bank, -value, description=f"Day {day}")


def test_a_statement_for_a_period_has_opening_lines_with_running_balance_and_closing(bank, wallet):
    post_daily(bank, wallet, ["100", "-20", "-30", "15", "-5", "40"])
    start = START + datetime.timedelta(days=2)
    end = START + datetime.timedelta(days=5)

    st = reports.statement(wallet, start=start, end=end)

    assert st.opening_balance == Decimal("80")
    assert [(line.amount, line.balance) for line in st.lines] == [
        (Decimal("-30"), Decimal("50")),
        (Decimal("15"), Decimal("65")),
        (Decimal("-5"), Decimal("60")),
    ]
    assert st.closing_balance == Decimal("60")
    assert st.line_count == 3 and st.page_count == 1
    assert [line.transfer.description for line in st.lines] == ["Day 2", "Day 3", "Day 4"]
    # Each running balance is the one before it plus the line's amount.
    running = st.opening_balance
    for line in st.lines:
        running += line.amount
        assert line.balance == running
    assert running == st.closing_balance


def test_a_statement_period_includes_its_start_and_excludes_its_end(bank, wallet):
    post_daily(bank, wallet, ["10", "20", "30"])
    day_one = START + datetime.timedelta(days=1)
    day_two = START + datetime.timedelta(days=2)

    st = reports.statement(wallet, start=day_one, end=day_two)

    assert [line.leg.created_at for line in st.lines] == [day_one]
    assert (st.opening_balance, st.closing_balance) == (Decimal("10"), Decimal("30"))
    empty = reports.statement(wallet, start=day_two + MINUTE, end=day_two + 2 * MINUTE)
    assert empty.lines == [] and empty.line_count == 0
    assert empty.opening_balance == empty.closing_balance == Decimal("60")


def test_a_statement_without_bounds_covers_the_whole_history(bank, wallet):
    post_daily(bank, wallet, ["10", "-4", "6"])

    st = reports.statement(wallet)

    assert st.opening_balance == 0
    assert [line.balance for line in st.lines] == [10, 6, 12]
    assert st.closing_balance == Decimal("12")


def test_a_statement_of_an_asset_shows_amounts_in_its_natural_sign(bank, wallet):
    post_daily(bank, wallet, ["10", "-4"])

    st = reports.statement(bank)

    # Dr Bank / Cr Wallet: the customer's money reaches the bank as their wallet is loaded,
    # so the asset rises with the liability, and both fall when the wallet is spent.
    assert [(line.amount, line.balance) for line in st.lines] == [
        (Decimal("10"), Decimal("10")),
        (Decimal("-4"), Decimal("6")),
    ]


def test_the_second_page_of_a_long_statement_continues_the_running_balance(bank, wallet):
    for i in range(120):
        with clock(START + i * MINUTE):
            facade.transfer(bank, wallet, Decimal(i + 1))

    st = reports.statement(wallet, page=2, page_size=50)

    assert (st.page, st.page_size, st.line_count, st.page_count) == (2, 50, 120, 3)
    assert [line.amount for line in st.lines] == [Decimal(n) for n in range(51, 101)]
    # After n loads of 1, 2, ..., n the balance is n(n + 1) / 2.
    assert [line.balance for line in st.lines] == [n * (n + 1) // 2 for n in range(51, 101)]
    assert st.closing_balance == Decimal(120 * 121 // 2)
    last = reports.statement(wallet, page=3, page_size=50)
    assert len(last.lines) == 20 and last.lines[-1].balance == st.closing_balance


def test_statement_pages_are_bounded(bank, wallet):
    post_daily(bank, wallet, ["1", "2", "3"])
    assert reports.statement(wallet, page_size=10**6).page_size == reports.STATEMENT_PAGE_SIZE_MAX
    assert reports.statement(wallet, page=0).page == 1
    assert reports.statement(wallet, page=99).lines == []


# -- an account of 10,000 legs ---------------------------------------------------------------

LONG_HISTORY_LEGS = 10_000


def load_history(target: Account, counterpart: Account, legs: int) -> None:
    """Give ``target`` ``legs`` loads of 1 from ``counterpart``, one minute apart from START.

    Ten thousand postings through the facade would take most of a minute on a server, so the
    history is written the way ``loaddata`` restores a dumped ledger: in bulk, past the
    append-only guard, with every running balance and version as the facade would have written
    them. The facade then posts on top of it and the verifier checks every row.
    """
    ledger_rows.load_transfers(counterpart, target, [START + i * MINUTE for i in range(legs)])


@pytest.fixture(scope="module")
def long_history(django_db_setup, django_db_blocker):
    """A wallet with 10,000 legs, shared by the tests below and rolled back after them."""
    with django_db_blocker.unblock(), transaction.atomic():
        counterpart = make("Busy source", Kind.ASSET)
        target = make("Busy wallet", Kind.LIABILITY)
        load_history(target, counterpart, LONG_HISTORY_LEGS)
        with clock(START + LONG_HISTORY_LEGS * MINUTE):
            facade.transfer(counterpart, target, Decimal("0.50"))
        short = make("Quiet wallet", Kind.LIABILITY)
        quiet_source = make("Quiet source", Kind.ASSET)
        for i in range(3):
            with clock(START + i * MINUTE):
                facade.transfer(quiet_source, short, Decimal("1"))
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE accounts_transaction")
        target.refresh_from_db()
        yield {"target": target, "short": short}
        transaction.set_rollback(True)


def test_the_long_history_is_consistent_with_the_database_rules(long_history):
    target = long_history["target"]
    assert (target.balance, target.version) == (Decimal("10000.50"), LONG_HISTORY_LEGS + 1)
    assert Transaction.objects.filter(account=target).count() == LONG_HISTORY_LEGS + 1
    assert reports.verify().ok


def test_a_balance_as_of_a_moment_in_a_long_history_is_one_query(
    long_history, django_assert_num_queries
):
    target = long_history["target"]
    with django_assert_num_queries(1):
        assert target.get_balance(as_of=START + 4999 * MINUTE) == Decimal("5000")
    with django_assert_num_queries(1):
        assert target.get_balance(as_of=START - TICK) == 0
    assert target.get_balance(as_of=START + LONG_HISTORY_LEGS * MINUTE) == Decimal("10000.50")


def count_queries(func, *args, **kwargs) -> int:
    with CaptureQueriesContext(connection) as captured:
        func(*args, **kwargs)
    return len(captured.captured_queries)


def test_a_statement_page_of_a_long_history_costs_what_a_short_one_costs(long_history):
    target, short = long_history["target"], long_history["short"]
    middle = START + 5000 * MINUTE

    for bounds in ({}, {"start": START, "end": middle}):
        short_cost = count_queries(reports.statement, short, page_size=50, **bounds)
        for page in (1, 2, 100):
            long_cost = count_queries(reports.statement, target, page=page, page_size=50, **bounds)
            assert long_cost == short_cost <= 5
    st = reports.statement(target, start=START + 100 * MINUTE, end=middle, page=2, page_size=50)
    assert st.opening_balance == Decimal("100")
    assert [line.balance for line in st.lines] == list(range(151, 201))
    assert st.closing_balance == Decimal("5000")


# The indexes made for reading an account's legs in order: by time, and by version.
LEG_INDEXES = ("accounts_tx_account_time", "accounts_transaction_unique_version")


def captured_sql(func) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        func()
    return [query["sql"] for query in captured.captured_queries]


def plan_of(sql: str) -> list[dict[str, object]]:
    """The database's plan for ``sql``, one dict per row of EXPLAIN output."""
    prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
    with connection.cursor() as cursor:
        cursor.execute(prefix + sql)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]


def indexes_led_by_account() -> set[str]:
    """Names of the indexes on accounts_transaction whose first column is account_id."""
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, "accounts_transaction")
    return {name for name, c in found.items() if c["columns"][:1] == ["account_id"]}


def assert_reads_legs_through_an_index(sql: str) -> None:
    """Check the plan reaches accounts_transaction by account through an index, never a scan.

    At least one read must use an index built for ordered reads of an account's legs.
    """
    rows = plan_of(sql)
    by_account = indexes_led_by_account()
    assert set(LEG_INDEXES) <= by_account
    if connection.vendor == "postgresql":
        text = "\n".join(str(row["QUERY PLAN"]) for row in rows)
        assert "Seq Scan on accounts_transaction" not in text, text
        used = re.findall(
            r"Index (?:Only )?Scan (?:Backward )?using (\w+) on accounts_transaction", text
        )
        assert set(used) & set(LEG_INDEXES), text
    elif connection.vendor == "mysql":
        # Subqueries name their tables by alias (U0, ...); a read of the legs is a row that
        # could have used the legs' own index.
        leg_rows = [r for r in rows if "accounts_tx_account_time" in str(r["possible_keys"])]
        assert leg_rows, rows
        assert all(r["key"] in by_account and r["type"] != "ALL" for r in leg_rows), rows
        assert {r["key"] for r in leg_rows} & set(LEG_INDEXES), rows
    else:
        aliases = {"accounts_transaction"} | set(
            re.findall(r'"accounts_transaction"\s+(?:AS\s+)?"?(\w+)', sql)
        )
        details = [str(row["detail"]) for row in rows]
        # Subqueries reuse aliases (U0, ...) across tables: a search through an index of the
        # accounts table is not a read of the legs, whatever its alias.
        with connection.cursor() as cursor:
            account_indexes = set(
                connection.introspection.get_constraints(cursor, "accounts_account")
            )
        leg_reads = [
            d
            for d in details
            if re.match(r"(SEARCH|SCAN) (\w+)", d)
            and d.split()[1] in aliases
            and not (
                (index := re.search(r"USING (?:COVERING )?INDEX (\w+)", d))
                and index.group(1) in account_indexes
            )
        ]
        assert leg_reads, details
        used = set()
        for detail in leg_reads:
            match = re.match(r"SEARCH \w+ USING (?:COVERING )?INDEX (\w+) \(account_id=\?", detail)
            assert match and match.group(1) in by_account, details
            used.add(match.group(1))
        assert used & set(LEG_INDEXES), details


def test_the_as_of_lookup_reads_the_legs_index_not_the_whole_history(long_history):
    target = long_history["target"]
    [sql] = captured_sql(lambda: target.get_balance(as_of=START + 4999 * MINUTE))
    assert_reads_legs_through_an_index(sql)


def test_the_as_of_lookup_of_a_leaf_probes_indexes_and_reads_no_range(long_history):
    """The newest leg by then is found by MAX() from the end of the (account, time) index,
    the back-dated check by one probe of (account, backdated), and no table is scanned."""
    target = long_history["target"]
    [sql] = captured_sql(lambda: target.get_balance(as_of=START + 4999 * MINUTE))
    rows = plan_of(sql)
    if connection.vendor == "postgresql":
        text = "\n".join(str(row["QUERY PLAN"]) for row in rows)
        assert "Seq Scan on accounts_transaction" not in text, text
        assert "GroupAggregate" not in text and "HashAggregate" not in text, text
        assert re.search(
            r"Index Only Scan Backward using accounts_tx_account_time on accounts_transaction",
            text,
        ), text
        assert "backdated = true" in text, text
    elif connection.vendor == "mysql":
        assert all(row["type"] != "ALL" for row in rows), rows
        assert any("Select tables optimized away" in str(row["Extra"]) for row in rows), rows
        [probe] = [row for row in rows if row["key"] == "accounts_tx_backdated"]
        assert probe["ref"] == "const,const", rows
    else:
        details = [str(row["detail"]) for row in rows]
        assert not [d for d in details if d.startswith("SCAN")], details
        leg_searches = [d for d in details if re.search(r"INDEX accounts_t(x|ransaction)_", d)]
        assert leg_searches, details
        assert all("(account_id=? AND " in d for d in leg_searches), details


def test_a_statement_page_reads_the_legs_index_not_the_whole_history(long_history):
    target = long_history["target"]
    queries = captured_sql(lambda: reports.statement(target, page=2, page_size=50))
    [page_sql] = [sql for sql in queries if re.search(r"\bOFFSET 50\b", sql)]
    assert_reads_legs_through_an_index(page_sql)
