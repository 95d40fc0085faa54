"""The soak in the report: server RSS, store size and throughput by tenth of the run, and
whether they are flat in its second half.

Reads results/soak-STORE.tsv (tenth, milliseconds, rss_kib, store_bytes, executions_ended;
rows for tenths 0–10 and `end`) and results/soak-STORE.json.
"""

from pathlib import Path

# Flat: over tenths 6–10, the largest value is at most this many times the smallest.
FLAT_RATIO = 1.15
SECOND_HALF = range(6, 11)


def read_samples(path: Path) -> dict:
    samples = {}
    if not path.exists():
        return samples
    for line in path.read_text().splitlines()[1:]:
        tenth, ms, rss, size, ended = (line.split("\t") + [""] * 5)[:5]
        number = lambda text: int(text) if text.strip() else None
        samples[tenth] = {"ms": number(ms), "rss_kib": number(rss), "store_bytes": number(size),
                          "ended": number(ended)}
    return samples


def throughput(samples: dict, tenth: int):
    """Executions ended per second over tenth `tenth` (from the sample before it)."""
    before, after = samples.get(str(tenth - 1)), samples.get(str(tenth))
    if not before or not after or None in (before["ended"], after["ended"]) or after["ms"] <= before["ms"]:
        return None
    return (after["ended"] - before["ended"]) / ((after["ms"] - before["ms"]) / 1000)


def flatness(values: list) -> tuple[str, float | None]:
    present = [v for v in values if v is not None]
    if len(present) < len(values) or not present or min(present) <= 0:
        return "not measured", None
    spread = max(present) / min(present)
    return ("flat" if spread <= FLAT_RATIO else "**not flat**"), spread


def soak_section(results: Path, runs: dict, settings: dict) -> list[str]:
    retention = settings.get("soak_retention_days", "off")
    out = ["## Soak: memory, store size and throughput over time", ""]
    if retention == "off":
        out.append("Retention was **off**: this server has no `--retention-days`, so nothing is "
                   "expired and the store grows with every execution.")
    else:
        out.append(f"Retention: `--retention-days {retention}` (one minute), so the store should "
                   "stop growing once the first minute's executions expire.")
    skew = settings.get("soak_max_clock_skew_seconds")
    if skew:
        out.append(f"Clock skew: `--max-clock-skew-seconds {skew}`, so used nonces are kept "
                   f"{2 * int(skew)} s (twice the skew) rather than the default 30 minutes, in "
                   "step with the retention of executions.")
    out += ["", f"Flat means: over tenths 6–10, max ÷ min ≤ {FLAT_RATIO:.2f} (within 15%).", ""]
    any_run = False
    for store, label in [("postgres", "Postgres"), ("sqlite", "SQLite")]:
        name = f"soak-{store}"
        data = runs.get(name)
        samples = read_samples(results / f"{name}.tsv")
        if not data or not samples:
            continue
        any_run = True
        size_label = "`pg_database_size`" if store == "postgres" else "database file + `-wal`"
        out += [
            f"### {label}",
            "",
            f"{data.get('executions', 0):,} executions at {data.get('requests_per_second', 0):,.1f} "
            f"started/s ({data.get('errors')} errors). Store size is {size_label}; throughput is "
            "executions ended per second in the tenth (the server's `fnf_executions_ended_total`).",
            "",
            "| Tenth | Seconds | Server RSS (MiB) | Store size (MiB) | Ended per second |",
            "| ---: | ---: | ---: | ---: | ---: |",
        ]
        for tenth in [str(t) for t in range(0, 11)] + ["end"]:
            sample = samples.get(tenth)
            if not sample:
                continue
            rate = throughput(samples, int(tenth)) if tenth.isdigit() and tenth != "0" else None
            mib = lambda value, scale: "—" if value is None else f"{value / scale:,.1f}"
            out.append(f"| {tenth} | {sample['ms'] / 1000:,.1f} | {mib(sample['rss_kib'], 1024)} | "
                       f"{mib(sample['store_bytes'], 1024 * 1024)} | "
                       f"{'—' if rate is None else f'{rate:,.1f}'} |")
        verdicts = []
        for figure, values in [
            ("RSS", [samples.get(str(t), {}).get("rss_kib") for t in SECOND_HALF]),
            ("store size", [samples.get(str(t), {}).get("store_bytes") for t in SECOND_HALF]),
            ("throughput", [throughput(samples, t) for t in SECOND_HALF]),
        ]:
            verdict, spread = flatness(values)
            verdicts.append(f"{figure} {verdict}" + (f" (max/min {spread:.2f})" if spread else ""))
        out += ["", f"Second half (tenths 6–10): {'; '.join(verdicts)}.", ""]
    if not any_run:
        out += ["Not run.", ""]
    return out
