"""Regenerate the reference pages made from the code: ``python docs/generate.py``.

* ``docs/hooks.md``  -- the hook reference, from ``partygraph.hookspecs``;
* ``docs/config.md`` -- the config reference, from the composed config schema;
* ``docs/cli.md``    -- the command-line reference, from the click command tree;
* ``docs/scenarios.md`` -- the demo world's tour with pictures (``partygraph_demo``).

``python docs/generate.py --check`` writes nothing and exits 1 when a page is
out of date (``tests/core/test_hookspecs.py`` checks the same).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from partygraph._reference import config_reference, hook_reference
from partygraph.cli.reference import cli_reference
from partygraph_demo.markdown import scenarios_page

DOCS = Path(__file__).resolve().parent
PAGES: dict[str, Callable[[], str]] = {
    "hooks.md": hook_reference,
    "config.md": config_reference,
    "cli.md": cli_reference,
    "scenarios.md": scenarios_page,
}


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for name, generate in PAGES.items():
        path = DOCS / name
        text = generate()
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        stale.append(name)
        if not check:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    if check and stale:
        print(f"out of date: {', '.join(stale)}; run `python docs/generate.py`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
