"""The examples in README.md work as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import partygraph

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks(language: str) -> list[str]:
    text = README.read_text(encoding="utf-8")
    return re.findall(rf"^```{language}\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE)


def test_embedding_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (snippet,) = _blocks("python")
    assert "partygraph.open(" in snippet
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "__readme__"}
    exec(compile(snippet, f"{README}:embedding", "exec"), namespace)
    assert (tmp_path / "example.db").exists()


def test_configuration_example_is_valid(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (example, *_) = _blocks("toml")
    assert "[database]" in example
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "partygraph.toml"
    path.write_text(example, encoding="utf-8")
    config = partygraph.check_config(path)
    assert config.enabled == ()
    with partygraph.open(path) as toolkit:
        toolkit.upsert_party("carol", "person", attributes={"crm_id": "C-1"})
        assert toolkit.party("carol").attributes == {"crm_id": "C-1"}


def test_quick_start_commands_are_literal() -> None:
    text = README.read_text(encoding="utf-8")
    quick = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    (setup, *_) = re.findall(r"^```\n(.*?)^```", quick, flags=re.DOTALL | re.MULTILINE)
    assert setup.splitlines() == [
        "python -m pip install -e '.[dev]' && partygraph demo",
        "python -m pytest -q",
    ]
