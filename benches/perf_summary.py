"""Buckets a `perf report --no-children --sort dso,sym -g none --stdio` listing into the parts of
the request path (HTTP, signature, JSON, SQL client, engine, runtime, allocator, kernel…), by
self time. Reads the listing on stdin, prints a table.
"""

import re
import sys

# First match wins: the more specific patterns come first.
BUCKETS = [
    ("signature (HMAC/SHA, V1 string to sign, nonce check)", r"sha1|sha2|hmac|auth::|percent_encode|replay|digest"),
    ("SQL client (sqlx, Postgres/SQLite protocol)", r"sqlx|libsqlite3|sqlite3|PgStore|SqliteStore|store::"),
    ("JSON (serde_json)", r"serde_json|serde_core|serde::"),
    ("engine and worker (advance, history, FDL)", r"fnf_server::(engine|worker)"),
    ("API layer (params, views, responses)", r"fnf_server::"),
    ("HTTP (hyper, axum, tower, http)", r"hyper|axum|tower|\bhttp::|httparse|h2::"),
    ("async runtime (tokio)", r"tokio|mio::|parking_lot|futures"),
    ("logging and metrics (tracing, prometheus)", r"tracing|prometheus"),
    ("allocator and memcpy (libc)", r"malloc|\bfree|cfree|_int_free|realloc|memcpy|memmove|memset|__rust_alloc|__rust_dealloc|__rust_realloc|unlink_chunk"),
    ("kernel: network, syscalls, scheduling", r"^\[k\]"),
    ("other (std, core, libc)", r""),
]


def main() -> None:
    totals: dict[str, float] = {name: 0.0 for name, _ in BUCKETS}
    for line in sys.stdin:
        match = re.match(r"\s*([\d.]+)%\s+(\S+)\s+(\[[.k]\].*)$", line)
        if not match:
            continue
        share, dso, symbol = float(match.group(1)), match.group(2), match.group(3)
        text = f"{symbol} {dso}" if not symbol.startswith("[k]") else symbol
        for name, pattern in BUCKETS:
            if re.search(pattern, text):
                totals[name] += share
                break
    print("| part (self time) | share |")
    print("| --- | ---: |")
    for name, share in sorted(totals.items(), key=lambda item: -item[1]):
        if share > 0:
            print(f"| {name} | {share:.1f}% |")


if __name__ == "__main__":
    main()
