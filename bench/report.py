"""The results: targets, a readable table, and the JSON file under ``bench/results/``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"

#: Most statements a transfer may send, BEGIN and COMMIT included.
STATEMENTS_MAX = 6
#: Least share of the raw-SQL baseline's sequential throughput.
SEQUENTIAL_RATIO_MIN = 0.5
#: Least share of the random-pair throughput when every transfer uses one hot account.
HOT_RATIO_MIN = 0.7
#: Most a read may slow down, median to median, between the short and the long history.
FLAT_READ_RATIO_MAX = 1.25
#: A batch of transfers through ``transfer_many`` against the same transfers one by one.
BATCH_SPEEDUP_MIN = 10.0
#: Most seconds importing a statement of 50,000 new lines may take (issue 14: "seconds").
STATEMENT_IMPORT_SECONDS_MAX = 20.0


@dataclass
class Target:
    name: str
    value: float
    goal: str
    met: bool

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value, "goal": self.goal, "met": self.met}


def targets(results: dict[str, Any]) -> list[Target]:
    """The issue's targets (set for PostgreSQL), checked for whatever scenarios ran."""
    found = []
    sequential = results.get("sequential")
    if sequential:
        count = sequential["facade"]["statements_per_transfer"]
        found.append(
            Target(
                "statements per transfer", count, f"<= {STATEMENTS_MAX}", count <= STATEMENTS_MAX
            )
        )
        ratio = sequential["ratio"]
        found.append(
            Target(
                "sequential throughput / raw SQL",
                ratio,
                f">= {SEQUENTIAL_RATIO_MIN:.2f}",
                ratio >= SEQUENTIAL_RATIO_MIN,
            )
        )
    concurrent = results.get("concurrent")
    if concurrent:
        ratio = concurrent["hot_vs_random"]
        found.append(
            Target(
                "hot source / random pairs (facade)",
                ratio,
                f">= {HOT_RATIO_MIN:.2f}",
                ratio >= HOT_RATIO_MIN,
            )
        )
    batch = results.get("batch")
    if batch:
        found.append(
            Target(
                "transfer_many / one by one",
                batch["speedup_one_call"],
                f">= {BATCH_SPEEDUP_MIN:.2f}",
                batch["speedup_one_call"] >= BATCH_SPEEDUP_MIN,
            )
        )
    imported = results.get("statements")
    if imported and imported["lines"] >= 50_000:
        found.append(
            Target(
                "statement: 50,000 lines imported, s",
                imported["import_seconds"],
                f"<= {STATEMENT_IMPORT_SECONDS_MAX:.0f}",
                imported["import_seconds"] <= STATEMENT_IMPORT_SECONDS_MAX,
            )
        )
    reads = results.get("reads")
    if reads:
        for kind, label in (("current", "balance"), ("as_of", "get_balance(as_of)")):
            ratio = reads[f"{kind}_long_vs_short"]
            found.append(
                Target(
                    f"{label}: long / short history",
                    ratio,
                    f"<= {FLAT_READ_RATIO_MAX:.2f}",
                    ratio <= FLAT_READ_RATIO_MAX,
                )
            )
    return found


def _n(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def table(run: dict[str, Any]) -> str:
    """The results as fixed-width text."""
    env = run["environment"]
    results = run["scenarios"]
    lines = [
        f"django-managed-accounts benchmark — {env['server']} via {env['driver']}",
        f"{env['cpus']} CPUs ({env['cpu_model']}), Python {env['python']}, "
        f"Django {env['django']}, {run['started_at']}, {'quick' if run['quick'] else 'full'} run"
        + (", facade with prepared statements" if run.get("pg_prepared") else ""),
    ]
    if "load_average_at_end" in env:
        start, end = env["load_average_at_start"][0], env["load_average_at_end"][0]
        lines.append(f"load average {start:.2f} at start, {end:.2f} at end (1 minute)")
    lines.append("")
    row = "{:<46} {:>12} {:>12} {:>9}"
    lines.append(row.format("Measure", "Facade", "Raw SQL", "vs raw"))
    lines.append("-" * 82)
    seq = results.get("sequential")
    if seq:
        f, r = seq["facade"], seq["raw"]
        lines.append(
            row.format(
                f"Sequential transfers/s ({f['attempted']:,})",
                _n(f["per_second"]),
                _n(r["per_second"]),
                f"{seq['ratio']:.2f}",
            )
        )
        per_transfer = [
            ("  ms per transfer", "ms_per_transfer", 2),
            ("  statements per transfer (BEGIN..COMMIT)", "statements_per_transfer", 1),
            ("  client CPU ms per transfer", "client_cpu_ms_per_transfer", 2),
            ("  server CPU ms per transfer", "server_cpu_ms_per_transfer", 2),
            ("  time in server round trips, ms", "round_trip_ms_per_transfer", 2),
        ]
        for label, key, digits in per_transfer:
            if key in f:
                raw = _n(r[key], digits) if key in r else ""
                lines.append(row.format(label, _n(f[key], digits), raw, ""))
        if f.get("trigger_ms_per_transfer"):
            triggers = f["trigger_ms_per_transfer"]
            lines.append(
                row.format(
                    "  of which in trigger functions, ms", _n(sum(triggers.values()), 2), "", ""
                )
            )
    con = results.get("concurrent")
    if con:
        for mode, label in (("random", "random pairs"), ("hot", "one hot source")):
            part = con[mode]
            f, r = part["facade"], part["raw"]
            lines.append(
                row.format(
                    f"{con['workers']} workers, {label}, transfers/s",
                    _n(f["per_second"]),
                    _n(r["per_second"]),
                    f"{part['ratio']:.2f}",
                )
            )
            for side, data in (("facade", f), ("raw", r)):
                if data["errors"]:
                    failed = data["attempted"] - data["succeeded"]
                    lines.append(
                        f"    {side}: {failed:,} of {data['attempted']:,} failed: "
                        + "; ".join(f"{k} ×{v}" for k, v in data["errors"].items())
                    )
        lines.append(
            row.format(
                "  hot / random",
                f"{con['hot_vs_random']:.2f}",
                f"{con['raw_hot_vs_random']:.2f}",
                "",
            )
        )
    batch = results.get("batch")
    if batch:
        lines.extend(_batch_rows(batch, row))
    sweep = results.get("sweep")
    if sweep:
        for key, label in (
            ("one_by_one", "expire_account one by one"),
            ("chunks", "expire_accounts, chunks of 500"),
        ):
            lines.append(
                row.format(f"Sweep: {label}, accounts/s", _n(sweep[key]["per_second"]), "", "")
            )
        lines.append(row.format("  speed-up", f"{sweep['speedup']:.1f}x", "", ""))
    imported = results.get("statements")
    if imported:
        lines.extend(_statement_rows(imported, row))
    reads = results.get("reads")
    if reads:
        lat = reads["latency_us"]
        legs = reads["legs"]
        for kind, label in (
            ("current", "Account.objects.get().balance"),
            ("as_of", "get_balance(as_of=middle)"),
        ):
            for name in ("short", "long"):
                lines.append(
                    row.format(
                        f"{label}, {legs[name]:,} legs, µs",
                        _n(lat[f"facade_{kind}_{name}"]["median"]),
                        _n(lat[f"raw_{kind}_{name}"]["median"]),
                        f"{reads[f'{kind}_{name}_ratio']:.2f}",
                    )
                )
        if reads["build_transfers_per_second"]:
            history = (
                f"history posted through the facade at {reads['build_transfers_per_second']:,.0f}/s"
            )
        else:
            history = "history loaded in bulk"
        lines.append(f"  (medians; 'vs raw' is raw latency / facade latency; {history})")
    lines.append("")
    lines.append("Targets (set for PostgreSQL)")
    for target in run["targets"]:
        verdict = "met" if target["met"] else "MISSED"
        lines.append(
            f"  {target['name']:<44} {target['value']:>8.2f}  {target['goal']:<8} {verdict}"
        )
    problems = [
        name
        for name, part in _facade_parts(results)
        if not part.get("verified", {}).get("ok", True)
    ]
    if reads and not reads["values_correct"]:
        problems.append("reads returned wrong balances")
    lines.append("")
    lines.append(
        "Ledger verified after each facade run: "
        + ("yes" if not problems else "NO: " + ", ".join(problems))
    )
    return "\n".join(lines)


def _statement_rows(imported: dict[str, Any], row: str) -> list[str]:
    """Seconds to import a statement and to import it again, and the peak memory."""
    lines = imported["lines"]
    return [
        row.format(
            f"Statement: import {lines:,} lines, s", f"{imported['import_seconds']:.2f}", "", ""
        ),
        row.format("  the same file again, s", f"{imported['reimport_seconds']:.2f}", "", ""),
        row.format(
            "  peak MB, whole file / a fifth",
            f"{imported['peak_mb']:.1f} / {imported['peak_mb_fifth']:.1f}",
            "",
            "",
        ),
    ]


def _batch_rows(batch: dict[str, Any], row: str) -> list[str]:
    """Transfers per second one by one and through ``transfer_many``, and the speed-ups."""
    lines = []
    for key, label in (
        ("one_by_one", "transfer one by one"),
        ("one_call", "transfer_many, one call"),
        ("chunks", "transfer_many, calls of 2,000"),
    ):
        part = batch[key]
        lines.append(row.format(f"Batch: {label}, /s", _n(part["per_second"]), "", ""))
        lines.append(
            row.format(
                "  client CPU ms per transfer", _n(part["client_cpu_ms_per_transfer"], 3), "", ""
            )
        )
    lines.append(row.format("  speed-up, one call", f"{batch['speedup_one_call']:.1f}x", "", ""))
    lines.append(
        row.format("  speed-up, calls of 2,000", f"{batch['speedup_chunks']:.1f}x", "", "")
    )
    return lines


def _facade_parts(results: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    parts = []
    if "sequential" in results:
        parts.append(("sequential", results["sequential"]["facade"]))
    if "concurrent" in results:
        for mode in ("random", "hot"):
            parts.append((f"concurrent {mode}", results["concurrent"][mode]["facade"]))
    if "reads" in results:
        parts.append(("reads", results["reads"]))
    if "batch" in results:
        for key in ("one_by_one", "one_call", "chunks"):
            parts.append((f"batch {key}", results["batch"][key]))
    if "sweep" in results:
        for key in ("one_by_one", "chunks"):
            parts.append((f"sweep {key}", results["sweep"][key]))
    return parts


def write_json(run: dict[str, Any], directory: Path = RESULTS_DIR) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{run['environment']['vendor_label']}-{run['stamp']}.json"
    path.write_text(json.dumps(run, indent=2, default=str) + "\n")
    return path
