"""The cost of a call in the report: CPU by process and Postgres work, per completed call.

Reads results/NAME.cpu.json and results/NAME.pg.json next to the load generator's NAME.json.
"""

import json
from pathlib import Path

SCENARIOS = [
    "start-sqlite", "start-postgres", "e2e3-sqlite", "e2e3-postgres", "e2e10-sqlite",
    "e2e10-postgres", "sync-postgres", "sync-sqlite", "callback-postgres", "callback-sqlite",
    "callback-postgres-alone", "callback-sqlite-alone", "moto-start", "moto-e2e3",
    "soak-postgres", "soak-sqlite",
]


def read_json(path: Path):
    if not path.exists():
        return None
    text = path.read_text().strip()
    return json.loads(text) if text else None


def completed_calls(data):
    """Executions that ended (bursts, soaks), callback rounds, or calls answered without error."""
    if not data:
        return None
    if "executions" in data:
        return data["executions"]
    if "round_trips" in data:
        return data["round_trips"]
    return data.get("requests", 0) - (data.get("errors") or 0)


def cpu_per_call(results: Path, name: str, data):
    """CPU ms per completed call by process (None where not measured), or None."""
    cpu = read_json(results / f"{name}.cpu.json")
    calls = completed_calls(data)
    if not cpu or not calls:
        return None
    per = {key: (cpu[f"{key}_ms"] / calls if cpu.get(f"{key}_ms") is not None else None)
           for key in ("server", "loadgen", "postgres")}
    per["sum"] = sum(value for value in per.values() if value is not None)
    own = cpu.get("postgres_own_ms")
    per["postgres_own"] = own / calls if own is not None else None
    per["calls"] = calls
    per["idle_wait_seconds"] = cpu.get("idle_wait_seconds")
    return per


def postgres_per_call(results: Path, name: str, data):
    """pg_stat_database deltas per completed call, or None."""
    pg = read_json(results / f"{name}.pg.json")
    calls = completed_calls(data)
    if not pg or not calls:
        return None
    per = {key: value / calls for key, value in pg.items()}
    per["calls"] = calls
    per["xact_total"] = pg["xact"]
    return per


def _ms(value):
    return "—" if value is None else f"{value:.3f}"


def cpu_section(results: Path, runs: dict) -> list[str]:
    out = [
        "## CPU per call by process",
        "",
        "CPU time (utime + stime) each process used for a scenario, in ms per completed call "
        "(calls answered without error; executions ended in bursts and soaks; rounds in callbacks). "
        "**Server**: `/proc/PID/stat` of fnf-server (or moto) before the load and after it, once the "
        "server is idle again (its CPU under 1 clock tick per 0.5 s, at most 60 s: the executions a "
        "StartExecution load started have then run, so their cost is in the figure; the wait is shown). "
        "**Load generator**: its own user + system time from `wait4`. **Postgres**: the postmaster "
        "(oldest process named `postgres`), all its children alive at each reading, and the "
        "postmaster's reaped-children times, so backends that ended in between count; this is the "
        "whole Postgres server, so other users of it on this machine would add to it. *Of which this "
        "database's connections* is the part of the backends connected to the scenario's database "
        "(`pg_stat_activity`, alive after the load), which others do not disturb; it leaves out "
        "the WAL writer, checkpointer and the like. Postgres is counted for the Postgres "
        "scenarios only; *Sum* is server + load generator + all of Postgres.",
        "",
        "| Scenario | Calls | Server | Load generator | Postgres | Of which this database's "
        "connections | Sum | Idle wait (s) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    shown = False
    for name in SCENARIOS:
        per = cpu_per_call(results, name, runs.get(name))
        if not per:
            continue
        shown = True
        out.append(f"| {name} | {per['calls']:,} | {_ms(per['server'])} | {_ms(per['loadgen'])} | "
                   f"{_ms(per['postgres'])} | {_ms(per['postgres_own'])} | {_ms(per['sum'])} | {per['idle_wait_seconds']} |")
    if not shown:
        out.append("| not run | | | | | | | |")
    out.append("")
    return out


def postgres_section(results: Path, runs: dict) -> list[str]:
    out = [
        "## Postgres work per call",
        "",
        "Deltas of `pg_stat_database` for each scenario's database (commits + rollbacks, rows "
        "inserted, updated, deleted) divided by completed calls. The first reading is taken once "
        "the server is ready and two readings 0.5 s apart agree (the migrations are then mostly "
        "flushed); the last after the server stopped, its connections closed (which flushes their "
        "statistics) and two readings agree. Transactions count read-only statements too (each "
        "statement outside a transaction is one); a write transaction is a group commit that may "
        "carry many calls' writes. In `start` the executions also run, so their history rows "
        "count; in `e2e` the load generator's ListExecutions polls and in `callback` its history "
        "reads count.",
        "",
        "| Scenario | Calls | Transactions | Transactions per call | Inserted per call "
        "| Updated per call | Deleted per call |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    shown = False
    for name in SCENARIOS:
        per = postgres_per_call(results, name, runs.get(name))
        if not per:
            continue
        shown = True
        out.append(f"| {name} | {per['calls']:,} | {per['xact_total']:,} | {per['xact']:.3f} | "
                   f"{per['tup_inserted']:.2f} | {per['tup_updated']:.2f} | {per['tup_deleted']:.2f} |")
    if not shown:
        out.append("| not run | | | | | | |")
    out.append("")
    return out
