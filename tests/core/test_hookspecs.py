"""Hook specifications: documented, their reference pages current, each hook tested."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from partygraph._reference import config_reference, hook_reference, hookspec_functions
from partygraph.cli.reference import cli_reference
from partygraph.hookspecs import WRAPPABLE_HOOKS
from partygraph_demo.markdown import scenarios_page

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
TESTS = ROOT / "tests"
HOOKS = hookspec_functions()


def test_there_are_hooks_and_the_per_plugin_ones_exist() -> None:
    assert len(HOOKS) >= 10
    assert set(HOOKS) >= WRAPPABLE_HOOKS


@pytest.mark.parametrize(
    ("page", "generate"),
    [
        ("hooks.md", hook_reference),
        ("config.md", config_reference),
        ("cli.md", cli_reference),
        ("scenarios.md", scenarios_page),
    ],
)
def test_reference_pages_are_up_to_date(page: str, generate: Callable[[], str]) -> None:
    path = DOCS / page
    assert path.exists(), f"docs/{page} is missing; run `python docs/generate.py`"
    assert path.read_text(encoding="utf-8") == generate(), (
        f"docs/{page} is out of date; run `python docs/generate.py`"
    )


def test_hook_reference_names_every_hook_with_its_signature() -> None:
    text = hook_reference()
    for name in HOOKS:
        assert f"### `{name}`" in text
        assert f"\n{name}(" in text


def test_config_reference_lists_every_core_setting() -> None:
    text = config_reference()
    for key in (
        "database.url",
        "database.echo",
        "database.auto_migrate",
        "plugins.enabled",
        "import.batch_size",
        "import.max_record_bytes",
    ):
        assert f"`{key}`" in text


@pytest.mark.parametrize("name", sorted(HOOKS))
def test_every_hookspec_is_documented_with_an_example(name: str) -> None:
    doc = inspect.getdoc(HOOKS[name])
    assert doc, f"{name} has no docstring"
    assert "Example::" in doc, f"{name}'s docstring has no 'Example::' block"


def _test_sources() -> dict[Path, str]:
    this = Path(__file__).resolve()
    return {
        path: path.read_text(encoding="utf-8")
        for path in sorted(TESTS.rglob("*.py"))
        if path.resolve() != this
    }


def test_every_hookspec_is_exercised_by_a_test() -> None:
    sources = _test_sources()
    untested = [
        name
        for name in HOOKS
        if not any(re.search(rf"\b{name}\b", text) for text in sources.values())
    ]
    assert not untested, (
        f"{len(untested)} hook(s) not mentioned by any test under tests/: " + ", ".join(untested)
    )
