"""The food bank world of the nonprofit plugin's tests (``examples/foodbank.jsonl``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FOODBANK = Path(__file__).resolve().parents[1] / "examples" / "foodbank.jsonl"


def foodbank() -> list[dict[str, Any]]:
    """The records of the example file: a trust, two programmes, the people around them."""
    with FOODBANK.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]
