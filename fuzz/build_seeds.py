#!/usr/bin/env python3
"""Rebuilds fuzz/seeds/ from the worked examples of the definitions reference.

Usage: python3 fuzz/build_seeds.py PATH/TO/reference.md

definition/: every YAML block under an `FDL-*` / `CF-*` heading, with the top-level
`name:` / `Name:` set to `fuzz` (the flow name the harness parses under); a block that is
only part of a document is kept as `*-fragment.yaml`.
expression/: every expression those definitions contain (conditions, `$` sources,
`.$` values, ItemsPath, ...) plus the code spans of the expression tables (FDL-5,
CF-4, Part IV).
"""

import hashlib
import re
import sys
from pathlib import Path

import yaml

HEADING = re.compile(r"^### ((?:FDL|CF)-\d+\w*)")
BLOCK = re.compile(r"```ya?ml\n(.*?)```", re.S)
SPAN = re.compile(r"``\s?(.+?)\s?``|`([^`]+)`")
EXPR_KEYS = {"condition", "Condition", "collection", "ItemsPath", "duration", "timestamp"}


def sections(text):
    current, lines = None, []
    for line in text.splitlines(keepends=True):
        m = HEADING.match(line)
        if m or line.startswith("# ") or line.startswith("## "):
            if current:
                yield current, "".join(lines)
            current, lines = (m.group(1) if m else None), []
        elif current:
            lines.append(line)
    if current:
        yield current, "".join(lines)


def expressions(node, out):
    if isinstance(node, dict):
        for key, value in node.items():
            key = str(key)
            if isinstance(value, str) and (
                key.endswith(".$") or key in EXPR_KEYS or value.startswith("$")
            ):
                out.add(value)
            expressions(value, out)
    elif isinstance(node, list):
        for item in node:
            expressions(item, out)


def looks_like_expression(span):
    return span.startswith("$") or re.match(r"^[\w\"'(!\-\[{]", span) and re.search(
        r"\$|\(|==|!=|<|>| in ", span
    )


def main():
    spec = Path(sys.argv[1]).read_text()
    root = Path(__file__).resolve().parent / "seeds"
    exprs = set()
    for d in ("definition", "expression"):
        (root / d).mkdir(parents=True, exist_ok=True)
        for old in (root / d).iterdir():
            old.unlink()
    for title, body in sections(spec):
        for i, block in enumerate(BLOCK.findall(body), 1):
            block = re.sub(r"(?m)^(name|Name):.*$", r"\1: fuzz", block)
            whole = re.search(r"(?m)^(type: flow|Type: StateMachine)$", block)
            name = f"{title.lower()}-{i}{'' if whole else '-fragment'}.yaml"
            (root / "definition" / name).write_text(block)
            try:
                expressions(yaml.safe_load(block), exprs)
            except yaml.YAMLError:
                pass
    part3 = spec.index("# Part III")
    tables = [body for title, body in sections(spec) if title in ("FDL-5", "CF-4")]
    for text in tables + [spec[part3:spec.index("# Appendix A")]]:
        for line in text.splitlines():
            if line.startswith("| `"):
                for a, b in SPAN.findall(line):
                    span = (a or b).strip().replace("\\|", "|")
                    if looks_like_expression(span):
                        exprs.add(span)
    for e in sorted(exprs):
        digest = hashlib.sha1(e.encode()).hexdigest()[:12]
        (root / "expression" / f"{digest}.txt").write_text(e)
    print(len(list((root / "definition").iterdir())), "definitions,", len(exprs), "expressions")


if __name__ == "__main__":
    main()
