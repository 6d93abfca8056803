"""The ``statements`` scenario: import a bank statement of ``Sizes.statement_lines`` lines.

A CSV statement (day-first dates over several years, amounts with thousands separators, one
description each) is written to a temporary file and imported into a fresh bank account
through ``accounts.statements.import_statement``, timed; then the same file again, every line a
duplicate. Memory is measured apart from the timings (``tracemalloc`` slows Python down) as the
peak while importing the whole file and a fifth of it, into fresh bank accounts: the importer
streams the file, so the peak grows only with the de-duplication counter, not with the file.
"""

from __future__ import annotations

import datetime
import random
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from . import database

#: How many rows of the statement are written per write call.
WRITE_ROWS = 5000


def write_statement(path: Path, lines: int, seed: int) -> None:
    rng = random.Random(seed)
    start = datetime.date(2015, 1, 1)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("Date,Description,Amount\n")
        rows = []
        for number in range(lines):
            day = start + datetime.timedelta(days=number // 25)
            amount = rng.randint(100, 250_000) / 100
            sign = "" if rng.random() < 0.2 else "-"
            rows.append(
                f'{day:%d/%m/%Y},SHOP {rng.randint(1, 900)} ORDER {number},"{sign}{amount:,.2f}"\n'
            )
            if len(rows) == WRITE_ROWS:
                out.writelines(rows)
                rows = []
        out.writelines(rows)


def _bank(name: str) -> Any:
    from accounts.models import Account, Kind

    return Account.objects.create(
        name=name, kind=Kind.ASSET, is_bank=True, credit_limit=None, currency="GBP"
    )


def _import(bank: Any, path: Path) -> Any:
    from accounts.statements import import_statement

    with path.open("rb") as stream:
        return import_statement(bank, stream, file_name=path.name, apply_rules=False)


def _peak_bytes(path: Path, name: str) -> int:
    bank = _bank(name)
    tracemalloc.start()
    try:
        _import(bank, path)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def statements(ctx: Any) -> dict[str, Any]:
    from .scenarios import _progress

    lines = ctx.sizes.statement_lines
    database.reset_ledger()
    with tempfile.TemporaryDirectory() as folder:
        full, fifth = Path(folder) / "statement.csv", Path(folder) / "fifth.csv"
        write_statement(full, lines, ctx.seed)
        write_statement(fifth, lines // 5, ctx.seed)
        _progress(f"statements: importing {lines:,} lines")
        bank = _bank("Bench bank")
        start = time.perf_counter()
        first = _import(bank, full)
        first_seconds = time.perf_counter() - start
        _progress("statements: importing the same file again")
        start = time.perf_counter()
        again = _import(bank, full)
        again_seconds = time.perf_counter() - start
        _progress("statements: peak memory, whole file and a fifth")
        peak_full = _peak_bytes(full, "Bench bank, memory")
        peak_fifth = _peak_bytes(fifth, "Bench bank, memory (fifth)")
        size_bytes = full.stat().st_size
    return {
        "lines": lines,
        "file_bytes": size_bytes,
        "added": first.lines_added,
        "duplicates_on_reimport": again.lines_duplicate,
        "import_seconds": first_seconds,
        "reimport_seconds": again_seconds,
        "lines_per_second": lines / first_seconds if first_seconds else 0.0,
        "peak_mb": peak_full / 1e6,
        "peak_mb_fifth": peak_fifth / 1e6,
    }
