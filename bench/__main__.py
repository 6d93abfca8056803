"""Command line of the benchmark harness: ``python -m bench [--quick] [--scenario NAME]``."""

from __future__ import annotations

import argparse
import datetime
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from . import database, report, scenarios

#: A database whose name says it is not for benchmarking is only emptied when told to.
SAFE_NAME_PART = "bench"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Measure the facade against a raw-SQL baseline on the database DATABASE_URL "
        "names (an SQLite file under .tmp/ when unset). Empties the ledger tables of that "
        "database before each scenario.",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smaller run (fewer transfers, 10,000 legs instead of 100,000)",
    )
    parser.add_argument(
        "--scenario",
        action="append",
        choices=scenarios.SCENARIOS,
        help="run only this scenario (repeat for several; default: all)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes in the concurrent scenario (default 4)",
    )
    parser.add_argument("--seed", type=int, default=2024, help="seed of the random pairs")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also run the sequential facade transfers (and the one-call batch) under cProfile "
        "and save the profiles under .tmp/",
    )
    parser.add_argument(
        "--history-through-facade",
        action="store_true",
        help="post the long account's history as facade transfers instead of loading it in "
        "bulk (about ten minutes more on PostgreSQL on 2 cores)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="empty the ledger even if the database name lacks 'bench' and the "
        "ledger holds transfers",
    )
    parser.add_argument(
        "--pg-prepared",
        action="store_true",
        help="PostgreSQL with psycopg 3: run the facade with Django's server_side_binding and "
        "prepare_threshold=5 options, so repeated statements are prepared as the baseline's are",
    )
    parser.add_argument("--no-json", action="store_true", help="do not write the results file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ["DJANGO_SETTINGS_MODULE"] = database.SETTINGS_MODULE
    if args.pg_prepared:
        # Read by bench/settings.py, here and in the spawned workers.
        os.environ["BENCH_PG_PREPARED"] = "1"
    from django.conf import settings

    config = dict(settings.DATABASES["default"])
    vendor = database.vendor_of(config)
    if database.create_database_if_missing(config):
        print(f"bench: created database {config['NAME']}")
    database.setup_django()
    refusal = _refuse_to_empty(config, force=args.force)
    if refusal:
        print(refusal, file=sys.stderr)
        return 2
    database.migrate()

    sizes = scenarios.QUICK if args.quick else scenarios.FULL
    if args.workers:
        sizes = scenarios.Sizes(**{**sizes.__dict__, "workers": args.workers})
    baseline = scenarios.Baseline(
        database.raw_connect(config), vendor, sqlite_begin=database.sqlite_begin(config)
    )
    baseline.create_tables()
    environment = database.describe_environment(config)
    started = datetime.datetime.now(datetime.timezone.utc)
    profile_path = None
    if args.profile:
        stamp = started.strftime("%Y%m%dT%H%M%S")
        profile_path = (
            database.REPO_DIR / ".tmp" / f"bench-{environment['vendor_label']}-{stamp}.prof"
        )
    context = scenarios.Context(
        config=config,
        vendor=vendor,
        baseline=baseline,
        sizes=sizes,
        seed=args.seed,
        profile_path=profile_path,
        history_through_facade=args.history_through_facade,
    )
    chosen = args.scenario or list(scenarios.SCENARIOS)
    print(
        f"bench: {environment['server']} ({environment['vendor_label']}), "
        f"scenarios: {', '.join(chosen)}",
        flush=True,
    )
    clock = time.perf_counter()
    results: dict[str, Any] = {}
    for name in chosen:
        begun = time.perf_counter()
        results[name] = scenarios.RUNNERS[name](context)
        results[name]["scenario_seconds"] = time.perf_counter() - begun
    baseline.conn.close()
    run: dict[str, Any] = {
        "started_at": started.isoformat(timespec="seconds"),
        "stamp": started.strftime("%Y%m%dT%H%M%SZ"),
        "duration_seconds": time.perf_counter() - clock,
        "command": "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:]),
        "quick": args.quick,
        "pg_prepared": args.pg_prepared,
        "seed": args.seed,
        "sizes": sizes.__dict__,
        "environment": environment,
        "git": _git_state(),
        "scenarios": results,
    }
    run["environment"]["load_average_at_end"] = os.getloadavg()
    run["targets"] = [t.as_dict() for t in report.targets(results)]
    print()
    print(report.table(run))
    if args.profile and "sequential" in results:
        print()
        print(results["sequential"]["facade"]["profile"]["top"])
    if args.profile and "batch" in results:
        print()
        print(results["batch"]["one_call"]["profile"]["top"])
    if not args.no_json:
        path = report.write_json(run)
        print(
            f"\nResults written to {path.relative_to(database.REPO_DIR)} "
            f"({run['duration_seconds']:.0f} s)"
        )
    return 0


def _refuse_to_empty(config: dict[str, Any], *, force: bool) -> str | None:
    """Why the harness will not touch this database, if the ledger there may be someone's."""
    from django.db import connection

    from accounts.models import Transfer

    name = str(config["NAME"])
    if force or SAFE_NAME_PART in Path(name).name.lower():
        return None
    if Transfer._meta.db_table not in connection.introspection.table_names():
        return None
    if not Transfer.objects.exists():
        return None
    return (
        f"bench: database {name!r} holds transfers and its name does not contain "
        f"{SAFE_NAME_PART!r}; the benchmark empties the ledger, so it stops here. Point "
        "DATABASE_URL at a benchmark database or pass --force."
    )


def _git_state() -> dict[str, Any]:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=database.REPO_DIR, capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        return {
            "commit": git("rev-parse", "HEAD"),
            "accounts_modified": bool(git("status", "--porcelain", "--", "accounts")),
        }
    except (OSError, subprocess.CalledProcessError):
        return {}


if __name__ == "__main__":
    raise SystemExit(main())
