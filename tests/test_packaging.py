"""The built wheel carries what an installed partygraph needs at run time."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

REQUIRED = (
    "partygraph/py.typed",
    "partygraph/schemas/config.schema.json",
    "partygraph/schemas/records/party.schema.json",
    "partygraph/storage/migrations/0001_core_tables.py",
    "partygraph_demo/cli.py",
    # The templates of `partygraph new-plugin`.
    "partygraph/templates/plugin/pyproject.toml.tmpl",
    "partygraph/templates/plugin/src/__package__/plugin.py.tmpl",
    "partygraph/templates/plugin/src/__package__/py.typed",
    "partygraph/templates/plugin/tests/test___name___conformance.py.tmpl",
)


def _build_wheel(outdir: Path) -> Path:
    """Build with `python -m build` (no isolation: no network), else `pip wheel`."""
    commands = [
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(outdir)],
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(outdir),
            str(ROOT),
        ],
    ]
    failures = []
    for command in commands:
        result = subprocess.run(
            command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
        )
        wheels = sorted(outdir.glob("partygraph-*.whl"))
        if result.returncode == 0 and len(wheels) == 1:
            return wheels[0]
        failures.append(f"$ {' '.join(command)}\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    pytest.fail("could not build the wheel:\n\n" + "\n\n".join(failures))


@pytest.mark.slow
def test_wheel_contains_typing_marker_schemas_and_migrations(tmp_path: Path) -> None:
    wheel = _build_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    missing = [name for name in REQUIRED if name not in names]
    assert not missing, f"{wheel.name} lacks {missing}; it has {sorted(names)}"
    assert not any("__pycache__" in name or name.endswith(".pyc") for name in names)
