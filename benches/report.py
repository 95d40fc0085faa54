"""Renders docs/PERFORMANCE.md from the JSON figures scripts/bench leaves in target/bench/results.

Every number in the report comes from those files or from /proc at the time of the run.
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
from pathlib import Path

from report_cost import SCENARIOS, cpu_section, postgres_section
from report_soak import soak_section
from report_targets import targets_section


def load(results: Path, name: str):
    path = results / f"{name}.json"
    if not path.exists():
        return None
    text = path.read_text().strip()
    return json.loads(text) if text else None


def machine() -> list[tuple[str, str]]:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")),
        platform.processor() or "unknown",
    )
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    mem_kib = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal"))
    kernel = Path("/proc/sys/kernel/osrelease").read_text().strip()
    load = Path("/proc/loadavg").read_text().split()[:3]
    rows = [
        ("CPU", model),
        ("Cores (online)", str(os.cpu_count())),
        ("Memory", f"{mem_kib / 1024 / 1024:.1f} GiB"),
        ("Kernel", kernel),
        ("Load average at report time (1/5/15 min)", " / ".join(load)),
    ]
    for label, command in [
        ("Postgres", ["psql", os.environ.get("PG_URL", "postgres://postgres@127.0.0.1:5432") + "/postgres", "-Atc", "show server_version"]),
        ("rustc", ["rustc", "--version"]),
    ]:
        try:
            rows.append((label, subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()))
        except (OSError, subprocess.CalledProcessError):
            rows.append((label, "unknown"))
    return rows


def fmt(value, digits=1):
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}"


def verdict(value, target, at_least: bool):
    if value is None or target is None:
        return "—"
    ok = value >= target if at_least else value < target
    return "pass" if ok else "**miss**"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--results", type=Path, required=True)
    parser.add_argument("--analysis", type=Path, required=True)
    parser.add_argument("--commit", required=True)
    parser.add_argument("--quick", default="0")
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args()
    results = args.results
    quick = args.quick == "1"

    settings = dict(
        pair.split("=", 1)
        for line in (results / "settings.txt").read_text().split("\n")
        for pair in line.split()
        if "=" in pair
    )
    r = {name: load(results, name) for name in SCENARIOS}

    def get(name, key):
        return (r[name] or {}).get(key)

    def ratio(a, b):
        return a / b if a is not None and b else None

    rows = []

    def row(figure, value, unit, target=None, at_least=True, digits=1, note=""):
        target_text = "—" if target is None else (("≥ " if at_least else "< ") + fmt(target, 0) + (f" {unit}" if unit != "×" else "×"))
        value_text = fmt(value, digits) + ("" if value is None else (f" {unit}" if unit != "×" else "×"))
        rows.append((figure, value_text, target_text, verdict(value, target, at_least), note))

    def errors(name):
        data = r[name]
        if not data:
            return "not run"
        parts = []
        if data.get("errors"):
            parts.append(f"{data['errors']} errors (first: {str(data.get('first_error'))[:80]})")
        if data.get("timed_out"):
            parts.append("timed out before every execution ended")
        return "; ".join(parts)

    for backend, label in [("postgres", "Postgres"), ("sqlite", "SQLite")]:
        name = f"start-{backend}"
        pg = backend == "postgres"
        row(f"StartExecution throughput, {label}", get(name, "requests_per_second"), "/s", 10_000 if pg else None, note=errors(name))
        row(f"StartExecution p50, {label}", get(name, "p50_ms"), "ms", digits=2)
        row(f"StartExecution p99, {label}", get(name, "p99_ms"), "ms", 20 if pg else None, at_least=False, digits=2)
    for steps in (3, 10):
        for backend, label in [("postgres", "Postgres"), ("sqlite", "SQLite")]:
            name = f"e2e{steps}-{backend}"
            pg = backend == "postgres"
            target = (5_000 if steps == 3 else 3_000) if pg else None
            row(f"{steps}-step burst of {fmt(get(name, 'executions'))}: executions completed, {label}",
                get(name, "executions_per_second"), "/s", target, note=errors(name))
            sample = get(name, "sample_steps_in_history")
            row(f"{steps}-step burst: durable state transitions, {label}", get(name, "steps_per_second"), "/s",
                note=f"{fmt(get(name, 'steps_committed'))} states committed; one execution's history shows {fmt(sample)} states entered")
    for backend, label in [("postgres", "Postgres"), ("sqlite", "SQLite")]:
        sync, callback = f"sync-{backend}", f"callback-{backend}"
        row(f"StartSyncExecution (10-step Express) throughput, {label}", get(sync, "requests_per_second"), "/s", 30_000, note=errors(sync))
        row(f"StartSyncExecution p99, {label}", get(sync, "p99_ms"), "ms", 5, at_least=False, digits=2)
        row(f"Callback round trip p50, {label}", get(callback, "p50_ms"), "ms", 5, at_least=False, digits=2,
            note=f"{fmt(get(callback, 'round_trips'))} round trips" if r[callback] else "not run")
        row(f"Callback round trip p99, {label}", get(callback, "p99_ms"), "ms", digits=2,
            note=f"{fmt(get(callback, 'not_started_at_answer'))} rounds without the step at the first read" if r[callback] else "")
        alone = f"callback-{backend}-alone"
        row(f"Callback round trip p50, one client alone, {label}", get(alone, "p50_ms"), "ms", 2, at_least=False, digits=2,
            note=f"p99 {fmt(get(alone, 'p99_ms'), 2)} ms, {fmt(get(alone, 'round_trips'))} round trips" if r[alone] else "not run")
        row(f"Callback: report sent until a history read shows the step, p50 / p99, {label}",
            get(callback, "seen_p50_ms"), "ms", digits=2,
            note=f"p99 {fmt(get(callback, 'seen_p99_ms'), 2)} ms" if r[callback] else "")

    moto_rows = []

    def moto_row(figure, ours, theirs, target, unit):
        value = ratio(ours, theirs)
        moto_rows.append((figure, fmt(ours) + f" {unit}" if ours is not None else "—",
                          fmt(theirs) + f" {unit}" if theirs is not None else "—",
                          fmt(value) + "×" if value is not None else "—",
                          f"≥ {target}×", verdict(value, target, True)))

    moto_row("StartExecution, 64 clients (Postgres)", get("start-postgres", "requests_per_second"),
             get("moto-start", "requests_per_second"), 50, "/s")
    moto_row("3-step burst, executions completed (Postgres)", get("e2e3-postgres", "executions_per_second"),
             get("moto-e2e3", "executions_per_second"), 40, "/s")

    out = []
    w = out.append
    w("# Performance")
    w("")
    if quick:
        w("> **Quick trial** (`scripts/bench --quick`): small counts, a short soak, and a machine that was "
          "not quiet. These figures prove the tooling, not the server; the reference figures come from a "
          "full run (`scripts/bench`) on a quiet machine.")
        w("")
    w(f"Generated by `scripts/bench` on {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC} "
      f"at commit `{args.commit}`; the benchmarks took {settings.get('bench_seconds', '?')} s.")
    w("")
    w("## Machine")
    w("")
    w("| | |")
    w("| --- | --- |")
    for label, value in machine():
        w(f"| {label} | {value} |")
    moto_version = "unknown"
    freeze = Path("target/moto-venv/bin/pip")
    if freeze.exists():
        listed = subprocess.run([str(freeze), "freeze"], capture_output=True, text=True).stdout
        moto_version = next((l.split("==")[1] for l in listed.splitlines() if l.lower().startswith("moto==")), moto_version)
    w(f"| moto | {moto_version} |")
    w("")
    w("## Method")
    w("")
    w(f"""- The server is `target/release/fnf-server` with its defaults (8 workers, `RUST_LOG=warn`), listening on a
  loopback port. Each scenario gets a fresh store: a new SQLite file, or a new database on the local
  Postgres, dropped afterwards.
- The load generator is `target/release/fnf-loadgen` on the **same machine**, so it competes with the server
  (and Postgres) for the same cores. Every request is signed (V1, HMAC-SHA1, a fresh nonce each; SigV4 for
  moto) and sent over keep-alive HTTP/1.1 connections, one per client.
- **StartExecution**: {settings.get('clients')} clients, up to {fmt(int(settings.get('start_requests', 0)))} calls or
  {settings.get('start_seconds')} s, whichever ends first, of a 3-step Pass flow (the started executions run
  meanwhile, as in service). Throughput is calls answered ÷ wall time; latencies are per call, from
  send to the whole answer read.
- **End-to-end burst**: {settings.get('clients')} clients start {fmt(int(settings.get('burst', 0)))} executions
  of a 3-step (and of a 10-step) Pass flow as fast as they are accepted; the clock runs from the first
  start until `ListExecutions` (polled every 20 ms) shows none running. *Executions completed per second*
  = executions ÷ that time. *Durable state transitions per second* = states entered and committed to the
  store (`StepEntered` history events, counted by the server's `fnf_steps_total` as each transaction
  commits) ÷ the same time; one execution's history is read back to check its state count.
- **StartSyncExecution**: {settings.get('clients')} clients, up to {fmt(int(settings.get('sync_requests', 0)))}
  calls or {settings.get('sync_seconds')} s, of a 10-step Pass flow in Express mode, on each store; a call
  counts only if it answers `Succeeded`.
- **Callback round trip**: {settings.get('callback_clients')} clients, {settings.get('callback_rounds')} rounds in
  all, on each store; then the same with one client alone. Each round starts a flow whose task starts a child execution and waits for a callback;
  once the history shows the token (in `TaskScheduled`) and the call that hands it to the child
  (`TaskSubmitted`), the clock starts and `ReportTaskSucceeded` is sent, as a real holder of the
  token would send it: after that call. The server advances the execution
  inside that call, so its answer comes after the transaction that starts the next step (a Wait)
  has committed: the round trip is the time to that answer. A history read after each answer checks
  that the next step's `StepStarted` is there (rounds where it was not are counted, and their clock
  runs until a read shows it); the time until that read is reported too.
- **moto**: the same load generator speaks the AWS JSON protocol to moto's Step Functions server
  (`moto_server` on loopback, with real execution switched on through `/moto-api/config`
  `{{"stepfunctions": {{"execute_state_machine": true}}}}`), with the same client count and an ASL
  definition of the same 3-step Pass flow. StartExecution uses the same count/time bounds; the burst is
  {fmt(int(settings.get('moto_burst', 0)))} executions (status polled every 200 ms).
- **Soak**: {settings.get('soak_seconds')} s of a steady rate of 3-step executions (16 clients, paced:
  {settings.get('soak_rate_postgres', settings.get('soak_rate'))}/s on Postgres,
  {settings.get('soak_rate_sqlite', settings.get('soak_rate'))}/s on SQLite) on each store, with a retention of one minute when the server takes
  `--retention-days`; at the start, every tenth of the time and at the end: the server's VmRSS
  (`/proc/PID/status`), the store's size and the server's count of executions ended (`/metrics`).
- **CPU** and **Postgres work** per call: see their sections below.
""")
    out += targets_section(results, r)
    w("## Results")
    w("")
    w("| Figure | Measured | Target | | Notes |")
    w("| --- | ---: | ---: | --- | --- |")
    for figure, value, target, ok, note in rows:
        w(f"| {figure} | {value} | {target} | {ok} | {note} |")
    w("")
    w("## Against moto (same run, same machine)")
    w("")
    w("| Workload | fnf-server | moto | Ratio | Target | |")
    w("| --- | ---: | ---: | ---: | ---: | --- |")
    for line in moto_rows:
        w("| " + " | ".join(line) + " |")
    w("")
    for name in ("moto-start", "moto-e2e3"):
        data = r[name]
        if data:
            extra = f"p50 {fmt(data.get('p50_ms'), 2)} ms, p99 {fmt(data.get('p99_ms'), 2)} ms"
            if data.get("sample_status"):
                extra += (f"; a sampled execution ended `{data['sample_status']}` with "
                          f"{data.get('sample_steps_in_history')} states entered in its history")
            problems = errors(name)
            w(f"- {name}: {fmt(data.get('requests'))} calls, {extra}" + (f"; {problems}" if problems else "") + ".")
    w("")
    out += cpu_section(results, r)
    out += postgres_section(results, r)
    out += soak_section(results, r, settings)
    w(args.analysis.read_text().rstrip())
    w("")
    args.output.write_text("\n".join(out))


if __name__ == "__main__":
    main()
