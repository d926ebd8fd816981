#!/usr/bin/python3
"""Checks that every metric a Grafana dashboard queries is exported.

usage: check_names.py DASHBOARD.json EXPOSITION.txt WORKER_METRICS.txt

EXPOSITION.txt is real output of `SELECT cachequeue.metrics()`; WORKER_METRICS.txt lists the
worker's families, one "NAME TYPE" a line (# comments allowed). Exits 1 naming each metric the
dashboard queries that neither exports, 2 on unreadable input.
"""
import json
import re
import sys
from typing import Iterator

NAME = re.compile(r"\bcachequeue_[a-zA-Z0-9_]+\b")


def expressions(node: object) -> Iterator[str]:
    """Every "expr" string anywhere in the dashboard (panels, rows, targets)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "expr" and isinstance(value, str):
                yield value
            else:
                yield from expressions(value)
    elif isinstance(node, list):
        for item in node:
            yield from expressions(item)


def exposition_names(text: str) -> set[str]:
    """The metric names of the sample lines of a text exposition."""
    names = set()
    for line in text.splitlines():
        if line and not line.startswith("#"):
            names.add(re.split(r"[{ ]", line, maxsplit=1)[0])
    return names


def worker_names(text: str) -> set[str]:
    """The sample names of the worker's families: a histogram has _bucket, _sum and _count."""
    names = set()
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        if not fields:
            continue
        if len(fields) != 2:
            raise ValueError(f"expected 'NAME TYPE', got {line!r}")
        name, kind = fields
        if kind == "histogram":
            names.update(name + suffix for suffix in ("_bucket", "_sum", "_count"))
        else:
            names.add(name)
    return names


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    try:
        with open(argv[1]) as f:
            dashboard = json.load(f)
        with open(argv[2]) as f:
            exported = exposition_names(f.read())
        with open(argv[3]) as f:
            exported |= worker_names(f.read())
    except (OSError, ValueError) as error:
        print(f"check_names: {error}", file=sys.stderr)
        return 2
    queried = {name for expr in expressions(dashboard) for name in NAME.findall(expr)}
    if not queried:
        print("check_names: the dashboard queries no cachequeue metric", file=sys.stderr)
        return 1
    missing = sorted(queried - exported)
    for name in missing:
        print(f"check_names: the dashboard queries {name}, which is not exported",
              file=sys.stderr)
    if not missing:
        print(f"check_names: all {len(queried)} metrics the dashboard queries are exported")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
