"""The three scenarios, each measured through the facade and through the raw-SQL baseline.

``sequential``
    one process, transfers between random pairs of funded accounts: transfers per second, and
    the statements each transfer sends (see :mod:`bench.counting`).
``concurrent``
    several worker processes over the same accounts: once with random pairs, once with every
    transfer drawing on one hot account.
``batch``
    10,000 transfers across 1,000 accounts one by one and through ``transfer_many``
    (:mod:`bench.batch`).
``statements``
    a bank statement of 50,000 lines imported, then imported again (:mod:`bench.statements`).
``reads``
    the latency of reading an account's balance, now and as of a moment in the middle of its
    history, on an account with many legs and on one with few.

The ledger is emptied before each scenario; the books are verified after each facade run,
outside every timing.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import random
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import connection

from . import batch, counting, database, ledger, statements, workers
from .raw import Baseline

SCENARIOS = ("sequential", "concurrent", "reads", "batch", "sweep", "statements")

#: Transfers made before each timed run, to open connections and warm caches.
WARM_UP_TRANSFERS = 20
#: Calls made before timing each kind of read.
WARM_UP_READS = 20


@dataclass(frozen=True)
class Sizes:
    accounts: int = 1000
    sequential: int = 2000
    workers: int = 4
    per_worker: int = 1000
    counted: int = 50
    long_legs: int = 100_000
    short_legs: int = 100
    reads: int = 1000
    batch: int = 10_000
    sweep: int = 2000
    statement_lines: int = 50_000


FULL = Sizes()
QUICK = Sizes(
    sequential=300,
    per_worker=150,
    counted=20,
    long_legs=10_000,
    reads=200,
    batch=2000,
    sweep=500,
    statement_lines=10_000,
)


@dataclass
class Context:
    config: dict[str, Any]
    vendor: str
    baseline: Baseline
    sizes: Sizes
    seed: int
    profile_path: Path | None = None
    history_through_facade: bool = False


_STARTED = time.monotonic()


def _progress(message: str) -> None:
    print(f"  {time.monotonic() - _STARTED:6.0f} s  {message}", flush=True)


# -- sequential --------------------------------------------------------------------------------


def sequential(ctx: Context) -> dict[str, Any]:
    sizes = ctx.sizes
    _progress(f"sequential: {sizes.accounts} accounts, {sizes.sequential} facade transfers")
    database.reset_ledger()
    pks = ledger.make_accounts(sizes.accounts)
    database.analyse(database.LEDGER_TABLES)
    accounts = ledger.load_accounts(pks)
    rng = random.Random(ctx.seed)
    ledger.run_transfers(accounts, WARM_UP_TRANSFERS, rng)
    with connection.cursor() as cursor:
        task = database.server_task_id(cursor, ctx.vendor)
    server_cpu = database.server_cpu_seconds(task)
    timed = ledger.run_transfers(accounts, sizes.sequential, rng)
    server_cpu = _used(server_cpu, database.server_cpu_seconds(task))
    log, counted = counting.count_django(lambda: ledger.run_transfers(accounts, sizes.counted, rng))
    facade = _throughput(timed, server_cpu)
    facade.update(_statements(log, counted.attempted))
    if ctx.vendor == "postgresql":
        facade["trigger_ms_per_transfer"] = _trigger_times(
            lambda: ledger.run_transfers(accounts, sizes.counted, rng), sizes.counted
        )
    if ctx.profile_path is not None:
        facade["profile"] = _profile(
            lambda: ledger.run_transfers(accounts, sizes.sequential, rng), ctx.profile_path
        )
    facade["verified"] = ledger.verify()

    _progress(f"sequential: {sizes.sequential} raw-SQL transfers")
    baseline = ctx.baseline
    baseline.reset()
    raw_pks = baseline.make_accounts(sizes.accounts)
    database.analyse(_raw_tables())
    rng = random.Random(ctx.seed)
    baseline.run_transfers(raw_pks, WARM_UP_TRANSFERS, rng)
    task = database.server_task_id(baseline.conn.cursor(), ctx.vendor)
    baseline.end_transaction()
    server_cpu = database.server_cpu_seconds(task)
    raw_timed = baseline.run_transfers(raw_pks, sizes.sequential, rng)
    server_cpu = _used(server_cpu, database.server_cpu_seconds(task))
    raw_log, raw_counted = counting.count_raw(
        baseline.conn,
        ctx.vendor,
        lambda: baseline.run_transfers(raw_pks, sizes.counted, rng),
    )
    raw = _throughput(raw_timed, server_cpu)
    raw.update(_statements(raw_log, raw_counted.attempted))
    return {"facade": facade, "raw": raw, "ratio": _ratio(facade["per_second"], raw["per_second"])}


def _throughput(run: ledger.RunResult, server_cpu: float | None = None) -> dict[str, Any]:
    per = 1000 / run.attempted if run.attempted else 0.0
    result = {
        **run.as_dict(),
        "per_second": run.succeeded / run.seconds if run.seconds else 0.0,
        "ms_per_transfer": per * run.seconds,
        # CPU times do not depend on what else the machine is doing, unlike the clock.
        "client_cpu_ms_per_transfer": per * run.cpu_seconds,
    }
    if server_cpu is not None:
        result["server_cpu_ms_per_transfer"] = per * server_cpu
    return result


def _used(before: float | None, after: float | None) -> float | None:
    return after - before if before is not None and after is not None else None


def _statements(log: counting.StatementLog, transfers: int) -> dict[str, Any]:
    result: dict[str, Any] = {
        "statements_per_transfer": log.count / transfers,
        "counted_transfers": transfers,
    }
    if log.statements:
        result["statement_kinds_per_transfer"] = {
            name: n / transfers for name, n in sorted(log.labels().items())
        }
    if log.django_visible:
        result["django_visible_per_transfer"] = log.django_visible / transfers
    if log.round_trip_seconds and len(log.round_trip_seconds) == len(log.statements):
        by_kind: dict[str, list[float]] = defaultdict(list)
        for sql, seconds in zip(log.statements, log.round_trip_seconds):
            by_kind[counting.label(sql)].append(seconds)
        result["round_trip_ms_by_kind"] = {
            name: 1000 * statistics.mean(values) for name, values in sorted(by_kind.items())
        }
        result["round_trip_ms_per_transfer"] = 1000 * sum(log.round_trip_seconds) / transfers
    return result


#: Idle time after which PostgreSQL (15+) publishes a backend's pending statistics.
STATS_FLUSH_SECONDS = 1.5


def _trigger_times(block: Callable[[], Any], transfers: int) -> dict[str, float] | None:
    """Time spent inside each PL/pgSQL function (the integrity triggers) per transfer.

    PostgreSQL's own function statistics (``track_functions = 'pl'``), read before and after
    ``block``; setting them needs a superuser, so without one there is no figure.
    """
    query = "SELECT funcname, total_time FROM pg_stat_user_functions"

    def snapshot() -> dict[str, float]:
        time.sleep(STATS_FLUSH_SECONDS)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(query)
            return {name: float(total) for name, total in cursor.fetchall()}

    try:
        with connection.cursor() as cursor:
            cursor.execute("SET track_functions = 'pl'")
    except Exception:  # not a superuser
        return None
    try:
        before = snapshot()
        block()
        after = snapshot()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET track_functions")
    return {
        name: (total - before.get(name, 0.0)) / transfers
        for name, total in sorted(after.items())
        if total > before.get(name, 0.0)
    }


def _profile(block: Callable[[], Any], path: Path) -> dict[str, Any]:
    profiler = cProfile.Profile(time.process_time)  # CPU time: not skewed by other load
    profiler.enable()
    block()
    profiler.disable()
    path.parent.mkdir(parents=True, exist_ok=True)
    profiler.dump_stats(str(path))
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(40)
    return {"path": str(path), "top": text.getvalue()}


def _raw_tables() -> tuple[str, ...]:
    from .raw import TABLES

    return TABLES


# -- concurrent --------------------------------------------------------------------------------


def concurrent(ctx: Context) -> dict[str, Any]:
    sizes = ctx.sizes
    result: dict[str, Any] = {"workers": sizes.workers, "per_worker": sizes.per_worker}
    for mode in ("random", "hot"):
        _progress(f"concurrent ({mode}): {sizes.workers} facade workers x {sizes.per_worker}")
        database.reset_ledger()
        pks = ledger.make_accounts(sizes.accounts)
        hot = ledger.make_hot_account() if mode == "hot" else None
        database.analyse(database.LEDGER_TABLES)
        jobs = [
            {"pks": pks, "hot": hot, "count": sizes.per_worker, "seed": ctx.seed + i}
            for i in range(sizes.workers)
        ]
        facade = workers.run_workers(workers.facade_worker, jobs)
        facade["verified"] = ledger.verify()

        _progress(f"concurrent ({mode}): {sizes.workers} raw-SQL workers x {sizes.per_worker}")
        ctx.baseline.reset()
        raw_pks = ctx.baseline.make_accounts(sizes.accounts)
        raw_hot = ctx.baseline.make_hot_account() if mode == "hot" else None
        database.analyse(_raw_tables())
        raw_jobs = [
            {
                "pks": raw_pks,
                "hot": raw_hot,
                "count": sizes.per_worker,
                "seed": ctx.seed + i,
                "config": ctx.config,
                "vendor": ctx.vendor,
            }
            for i in range(sizes.workers)
        ]
        raw = workers.run_workers(workers.raw_worker, raw_jobs)
        result[mode] = {
            "facade": facade,
            "raw": raw,
            "ratio": _ratio(facade["per_second"], raw["per_second"]),
        }
    result["hot_vs_random"] = _ratio(
        result["hot"]["facade"]["per_second"], result["random"]["facade"]["per_second"]
    )
    result["raw_hot_vs_random"] = _ratio(
        result["hot"]["raw"]["per_second"], result["random"]["raw"]["per_second"]
    )
    return result


# -- reads -------------------------------------------------------------------------------------


def reads(ctx: Context) -> dict[str, Any]:
    from accounts.models import Account

    sizes = ctx.sizes
    database.reset_ledger()
    # The other accounts are there because a rolled-up read may look at more than one row.
    ledger.make_accounts(sizes.accounts)
    long = Account.objects.create(name="BENCH long history", code="BENCH-LONG")
    short = Account.objects.create(name="BENCH short history", code="BENCH-SHORT")
    build_rate = None
    if ctx.history_through_facade:
        _progress(f"reads: posting {sizes.long_legs:,} transfers to one account through the facade")
        long_middle, build_rate = ledger.build_history(long.pk, sizes.long_legs)
    else:
        _progress(f"reads: loading {sizes.long_legs:,} legs into one account in bulk")
        long_middle = ledger.load_history(long.pk, sizes.long_legs)
    short_middle, _ = ledger.build_history(short.pk, sizes.short_legs)
    database.analyse(database.LEDGER_TABLES)
    _progress("reads: verifying the ledger")
    verified = ledger.verify()
    _progress(f"reads: timing {sizes.reads} reads of each kind")

    long.refresh_from_db()
    short.refresh_from_db()
    cases = {
        "long": (long, long_middle, sizes.long_legs),
        "short": (short, short_middle, sizes.short_legs),
    }
    baseline = ctx.baseline
    baseline.autocommit(True)
    try:
        calls: dict[str, Callable[[], Any]] = {}
        for name, (account, middle, _legs) in cases.items():
            calls[f"facade_current_{name}"] = _current_balance(account.pk)
            calls[f"facade_as_of_{name}"] = _balance_as_of(account, middle)
            calls[f"raw_current_{name}"] = _bind(baseline.read_balance, account.pk)
            calls[f"raw_as_of_{name}"] = _bind(baseline.read_balance_as_of, account.pk, middle)
        values = {key: call() for key, call in calls.items()}
        timings = _time_interleaved(calls, sizes.reads)
    finally:
        baseline.autocommit(False)

    expected = {
        "long": (Decimal(sizes.long_legs), Decimal(sizes.long_legs // 2)),
        "short": (Decimal(sizes.short_legs), Decimal(sizes.short_legs // 2)),
    }
    correct = all(
        Decimal(str(values[f"{side}_current_{name}"])) == now
        and Decimal(str(values[f"{side}_as_of_{name}"])) == middle
        for name, (now, middle) in expected.items()
        for side in ("facade", "raw")
    )
    result: dict[str, Any] = {
        "legs": {"long": sizes.long_legs, "short": sizes.short_legs},
        "history": "facade" if ctx.history_through_facade else "bulk load",
        "build_transfers_per_second": build_rate,
        "values_correct": correct,
        "verified": verified,
        "latency_us": timings,
        "as_of_plans": {
            "long": _as_of_plans(long, long_middle),
            "short": _as_of_plans(short, short_middle),
        },
    }
    for kind in ("current", "as_of"):
        facade_long = timings[f"facade_{kind}_long"]["median"]
        facade_short = timings[f"facade_{kind}_short"]["median"]
        result[f"{kind}_long_vs_short"] = _ratio(facade_long, facade_short)
        for name in ("long", "short"):
            # Speed relative to the baseline: the raw latency over the facade's.
            result[f"{kind}_{name}_ratio"] = _ratio(
                timings[f"raw_{kind}_{name}"]["median"], timings[f"facade_{kind}_{name}"]["median"]
            )
    return result


def _bind(func: Callable[..., Any], *args: Any) -> Callable[[], Any]:
    return lambda: func(*args)


def _current_balance(pk: int) -> Callable[[], Any]:
    from accounts.models import Account

    return lambda: Account.objects.get(pk=pk).balance


def _balance_as_of(account: Any, moment: Any) -> Callable[[], Any]:
    return lambda: account.get_balance(as_of=moment)


def _time_interleaved(calls: dict[str, Callable[[], Any]], repeats: int) -> dict[str, Any]:
    """Time every call ``repeats`` times, in a shuffled turn each round so that neither drift
    nor the call that came just before favours any of them."""
    for call in calls.values():
        for _ in range(WARM_UP_READS):
            call()
    samples: dict[str, list[float]] = {key: [] for key in calls}
    clock = time.perf_counter
    order = list(calls.items())
    rng = random.Random(repeats)
    for _ in range(repeats):
        rng.shuffle(order)
        for key, call in order:
            start = clock()
            call()
            samples[key].append(clock() - start)
    summary = {}
    for key, values in samples.items():
        values.sort()
        summary[key] = {
            "median": 1e6 * statistics.median(values),
            "p95": 1e6 * values[int(0.95 * (len(values) - 1))],
            "mean": 1e6 * statistics.mean(values),
        }
    return summary


def _as_of_plans(account: Any, moment: Any) -> list[dict[str, Any]]:
    """How the database runs the queries of ``get_balance(as_of=...)``, executed for real.

    The statements are captured as Django sent them and explained with the server's own
    measuring form where it has one (``EXPLAIN ANALYZE`` on PostgreSQL, ``ANALYZE`` on MariaDB),
    which shows how many legs each step reads.
    """
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        account.get_balance(as_of=moment)
    if connection.vendor == "postgresql":
        prefix = "EXPLAIN (ANALYZE, BUFFERS) "
    elif connection.vendor == "mysql":
        mariadb = getattr(connection, "mysql_is_mariadb", False)
        prefix = "ANALYZE " if mariadb else "EXPLAIN ANALYZE "
    else:
        prefix = "EXPLAIN QUERY PLAN "
    plans = []
    for query in captured.captured_queries:
        sql = query["sql"]
        if not sql.lstrip().upper().startswith("SELECT"):
            continue
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"{prefix}{sql}")
                lines = ["\t".join(str(c) for c in row) for row in cursor.fetchall()]
        except Exception as exc:  # the plan is informative only
            lines = [ledger.describe_error(exc)]
        plans.append({"sql": sql, "plan": lines})
    return plans


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0


RUNNERS: dict[str, Callable[[Context], dict[str, Any]]] = {
    "sequential": sequential,
    "concurrent": concurrent,
    "reads": reads,
    "batch": batch.batch,
    "sweep": batch.sweep,
    "statements": statements.statements,
}
