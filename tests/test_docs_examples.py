"""The examples in the docs work as written.

Each ```python block of the pages in :data:`PAGES` runs on its own, in a fresh
temporary directory (so ``sqlite:///example.db`` lands there), with the line
numbers of its page: a failure names the page and the line. A block that is
deliberately not runnable (it needs a PostgreSQL server, say) is preceded by the
line ``<!-- example: not run -->``; keep such blocks rare. Each ```toml block of
the pages in :data:`CONFIG_PAGES` is a valid partygraph config (the same marker
exempts a TOML block that is something else).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

import partygraph

ROOT = Path(__file__).resolve().parents[1]
#: Pages whose Python examples are run; each must have at least one.
PAGES = (
    "docs/embedding.md",
    "docs/history.md",
    "docs/transactions.md",
    "docs/custom-attributes.md",
    "docs/plugin-authors.md",
    "docs/plugin-tutorial.md",
    "docs/conformance.md",
)
#: Pages whose TOML examples are partygraph configs.
CONFIG_PAGES = (
    "docs/plugin-sets.md",
    "docs/custom-attributes.md",
    "docs/config-schema.md",
    "docs/postgresql.md",
    "docs/migrations.md",
)
README = "README.md"
NOT_RUN = "<!-- example: not run -->"
_FENCE = r"^```{language}[^\n]*\n(?P<code>.*?)^```[ \t]*$"


def python_blocks(text: str, language: str = "python") -> list[tuple[int, str]]:
    """``(line of the first code line, code)`` of every runnable block in *text*."""
    found = []
    fence = re.compile(_FENCE.format(language=language), re.DOTALL | re.MULTILINE)
    for match in fence.finditer(text):
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        if before.strip() == NOT_RUN:
            continue
        line = text.count("\n", 0, match.start("code")) + 1
        found.append((line, match.group("code")))
    return found


def _readme_embedding() -> str:
    """README's Embedding section, with the lines before it blanked (line numbers hold)."""
    text = (ROOT / README).read_text(encoding="utf-8")
    start = text.index("\n## Embedding\n")
    end = text.find("\n## ", start + 1)
    end = len(text) if end < 0 else end
    return "\n" * text.count("\n", 0, start) + text[start:end]


def _examples() -> list[object]:
    params: list[object] = []
    sources = [(page, (ROOT / page).read_text(encoding="utf-8")) for page in PAGES]
    sources.append((README, _readme_embedding()))
    for page, text in sources:
        for line, code in python_blocks(text):
            params.append(pytest.param(page, line, code, id=f"{page}:{line}"))
    return params


EXAMPLES = _examples()


@pytest.mark.parametrize("page", [*PAGES, README])
def test_every_listed_page_has_examples(page: str) -> None:
    assert any(param.values[0] == page for param in EXAMPLES), (  # type: ignore[attr-defined]
        f"{page} has no runnable ```python block"
    )


@pytest.mark.parametrize(("page", "line", "code"), EXAMPLES)
def test_example_runs(
    page: str, line: int, code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    # Pad with blank lines so a traceback points at the page's own line numbers.
    source = "\n" * (line - 1) + code
    namespace: dict[str, object] = {"__name__": "__docs_example__"}
    exec(compile(source, str(ROOT / page), "exec"), namespace)


def _configs() -> list[object]:
    params: list[object] = []
    for page in CONFIG_PAGES:
        text = (ROOT / page).read_text(encoding="utf-8")
        for line, code in python_blocks(text, "toml"):
            params.append(pytest.param(code, id=f"{page}:{line}"))
    return params


@pytest.mark.parametrize("code", _configs())
def test_config_example_is_valid(code: str) -> None:
    config = partygraph.check_config(tomllib.loads(code))
    assert config.source == "<dict config>"


def test_blocks_are_found_with_their_lines_and_the_marker_is_honoured() -> None:
    text = "intro\n```python\nx = 1\n```\n<!-- example: not run -->\n```python\nboom()\n```\n"
    assert python_blocks(text) == [(3, "x = 1\n")]
