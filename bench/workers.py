"""Worker processes for the concurrent scenarios, started with multiprocessing's "spawn".

Each worker starts from a fresh interpreter: it loads Django with the bench settings (or opens a
raw driver connection), warms up with a few transfers, waits at a barrier with the others, and
then makes its share of transfers. Throughput is the number of successful transfers divided by
the time from the first worker leaving the barrier to the last one finishing
(``time.monotonic`` is one clock for every process on the machine).
"""

from __future__ import annotations

import multiprocessing
import queue
import random
import time
import traceback
from typing import Any

#: Transfers each worker makes before the barrier, outside the measurement.
WARM_UP_TRANSFERS = 5
#: How long anything may wait for a worker before the run is declared broken.
WORKER_TIMEOUT_SECONDS = 600


def facade_worker(job: dict[str, Any], barrier: Any, results: Any) -> None:
    try:
        from .database import setup_django

        setup_django()
        from django.db import connection

        from .ledger import load_accounts, run_transfers

        rng = random.Random(job["seed"])
        accounts = load_accounts(job["pks"])
        hot = load_accounts([job["hot"]])[0] if job["hot"] else None
        connection.ensure_connection()
        run_transfers(accounts, WARM_UP_TRANSFERS, rng, hot=hot)
        barrier.wait(WORKER_TIMEOUT_SECONDS)
        started = time.monotonic()
        outcome = run_transfers(accounts, job["count"], rng, hot=hot)
        finished = time.monotonic()
        connection.close()
        results.put({"started": started, "finished": finished, **outcome.as_dict()})
    except BaseException:
        barrier.abort()
        results.put({"crashed": traceback.format_exc()})


def raw_worker(job: dict[str, Any], barrier: Any, results: Any) -> None:
    try:
        from .database import raw_connect, sqlite_begin
        from .raw import Baseline

        rng = random.Random(job["seed"])
        baseline = Baseline(
            raw_connect(job["config"]), job["vendor"], sqlite_begin=sqlite_begin(job["config"])
        )
        baseline.run_transfers(job["pks"], WARM_UP_TRANSFERS, rng, hot=job["hot"])
        barrier.wait(WORKER_TIMEOUT_SECONDS)
        started = time.monotonic()
        outcome = baseline.run_transfers(job["pks"], job["count"], rng, hot=job["hot"])
        finished = time.monotonic()
        baseline.conn.close()
        results.put({"started": started, "finished": finished, **outcome.as_dict()})
    except BaseException:
        barrier.abort()
        results.put({"crashed": traceback.format_exc()})


def run_workers(target: Any, jobs: list[dict[str, Any]]) -> dict[str, Any]:
    """Run one worker per job at once; return the combined throughput and errors."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(jobs))
    results = context.Queue()
    processes = [context.Process(target=target, args=(job, barrier, results)) for job in jobs]
    for process in processes:
        process.start()
    reports = []
    try:
        for _ in processes:
            reports.append(results.get(timeout=WORKER_TIMEOUT_SECONDS))
    except queue.Empty:
        reports.append({"crashed": "a worker neither reported nor crashed in time"})
    for process in processes:
        process.join(WORKER_TIMEOUT_SECONDS)
        if process.is_alive():
            process.terminate()
    crashed = [r["crashed"] for r in reports if "crashed" in r]
    if crashed:
        raise RuntimeError("bench: a worker failed:\n" + crashed[0])
    wall = max(r["finished"] for r in reports) - min(r["started"] for r in reports)
    errors: dict[str, int] = {}
    for report in reports:
        for name, count in report["errors"].items():
            errors[name] = errors.get(name, 0) + count
    succeeded = sum(r["succeeded"] for r in reports)
    return {
        "workers": len(jobs),
        "attempted": sum(r["attempted"] for r in reports),
        "succeeded": succeeded,
        "errors": errors,
        "seconds": wall,
        "per_second": succeeded / wall if wall > 0 else 0.0,
    }
