"""Sum the figures a reliability run recorded, as the table in docs/reliability.md.

Usage::

    PARTYGRAPH_RELIABILITY_REPORT=/tmp/figures.jsonl python -m pytest -q tests/reliability
    python tests/reliability/reliability_figures.py /tmp/figures.jsonl
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict


def main(path: str) -> None:
    totals: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            entry = json.loads(line)
            key = (entry["check"], entry["backend"], entry["budget"])
            totals[key][0] += entry["tried"]
            totals[key][1] += entry["passed"]
    print("| check | backend | budget | tried | passed |")
    print("|---|---|---|---|---|")
    for (check, backend, budget), (tried, passed) in sorted(totals.items()):
        print(f"| {check} | {backend} | {budget} | {tried} | {passed} |")


if __name__ == "__main__":
    main(sys.argv[1])
