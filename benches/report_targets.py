"""The targets in the report: each target figure, its measured value, and whether it was met.

The CPU target is relative: half of the figure in benches/baseline.json, when that file holds one,
as {"cpu_ms_per_durable_start_execution": {"value": MS, "source": "commit …, full run on …"}}.
"""

import json
from pathlib import Path

from report_cost import cpu_per_call, postgres_per_call

BASELINE = Path(__file__).with_name("baseline.json")


def _value(value, unit, digits):
    return "not run" if value is None else f"{value:,.{digits}f}{unit}"


def targets_section(results: Path, runs: dict) -> list[str]:
    def get(name, key):
        return (runs.get(name) or {}).get(key)

    def ratio(ours, theirs):
        return ours / theirs if ours is not None and theirs else None

    rows = []

    def target(figure, value, comparison, bound, unit="", digits=1):
        if value is None or bound is None:
            met = "—"
        else:
            ok = {"≥": value >= bound, "<": value < bound, "≤": value <= bound}[comparison]
            met = "yes" if ok else "**no**"
        bound_text = "—" if bound is None else f"{comparison} {bound:,.{digits if bound % 1 else 0}f}{unit}"
        rows.append((figure, _value(value, unit, digits), bound_text, met))

    start_pg = get("start-postgres", "requests_per_second")
    target("StartExecution, 64 clients, Postgres: throughput", start_pg, "≥", 10_000, "/s")
    target("StartExecution, 64 clients, Postgres: p99", get("start-postgres", "p99_ms"), "<", 20, " ms", 2)
    target("StartExecution, 64 clients, Postgres: × moto", ratio(start_pg, get("moto-start", "requests_per_second")),
           "≥", 50, "×")
    burst_pg = get("e2e3-postgres", "executions_per_second")
    burst = get("e2e3-postgres", "executions")
    target(f"3-step burst of {burst:,}, Postgres: executions completed" if burst else
           "3-step burst, Postgres: executions completed", burst_pg, "≥", 5_000, "/s")
    target("3-step burst, Postgres: × moto", ratio(burst_pg, get("moto-e2e3", "executions_per_second")), "≥", 40, "×")
    for store, label in [("postgres", "Postgres"), ("sqlite", "SQLite")]:
        target(f"StartSyncExecution, 10-step, 64 clients, {label}: throughput",
               get(f"sync-{store}", "requests_per_second"), "≥", 30_000, "/s")
        target(f"StartSyncExecution, 10-step, 64 clients, {label}: p99", get(f"sync-{store}", "p99_ms"),
               "<", 5, " ms", 2)
    for store, label in [("postgres", "Postgres"), ("sqlite", "SQLite")]:
        target(f"Callback round trip p50, one client alone, {label}", get(f"callback-{store}-alone", "p50_ms"),
               "<", 2, " ms", 2)
        clients = get(f"callback-{store}", "clients")
        target(f"Callback round trip p50, {clients or 8} clients, {label}", get(f"callback-{store}", "p50_ms"),
               "<", 5, " ms", 2)

    cpu = cpu_per_call(results, "start-postgres", runs.get("start-postgres"))
    cpu_value = cpu["server"] + cpu["postgres"] if cpu and cpu["postgres"] is not None else None
    baseline = json.loads(BASELINE.read_text()) if BASELINE.exists() else {}
    previous = baseline.get("cpu_ms_per_durable_start_execution")
    target("CPU per durable StartExecution, server + Postgres (halved vs baseline)", cpu_value, "≤",
           previous["value"] / 2 if previous else None, " ms", 3)
    pg = postgres_per_call(results, "start-postgres", runs.get("start-postgres"))
    target("Postgres transactions per StartExecution", pg["xact"] if pg else None, "≤", 0.2, "", 3)

    out = [
        "## Targets",
        "",
        "| Figure | Measured | Target | Met |",
        "| --- | ---: | ---: | --- |",
    ]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    out.append("")
    if previous:
        out.append(f"CPU baseline: {previous['value']:.3f} ms per call, {previous['source']}; the target is "
                   "half of it.")
    else:
        out.append("CPU baseline: not measured (benches/baseline.json holds none), so the CPU figure "
                   "has no verdict.")
    out.append("The CPU figure is the start-postgres scenario's server and Postgres CPU (see *CPU per "
               "call by process*) per call answered, including running the 3-step executions the calls "
               "started.")
    if cpu and cpu["postgres_own"] is not None:
        out.append(f"Counting of Postgres only this database's connections, it is "
                   f"{cpu['server'] + cpu['postgres_own']:.3f} ms.")
    out.append("")
    return out
