"""Fuzzing the JSON Lines importer: every bad line is a clear error, every good one lands once.

Each generated file (see ``import_fuzz_cases``) is imported three times:
all-or-nothing (refused, every bad line named by number, nothing written),
with ``skip_invalid`` (exactly the bad lines rejected, every valid record
stored verbatim), and with ``skip_invalid`` again (nothing duplicated). The
command line is run on one file of each kind of damage: exit status 2, the
line number in the message, never a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from import_fuzz_cases import MAX_DEPTH, MAX_RECORD_BYTES, Case, _broken, generate
from reliability_support import BUDGET, changed_tables, record_cases

from partygraph import RecordsRejected, Toolkit
from partygraph.cli import main
from partygraph.storage.tables import interaction_table
from partygraph.testing import table_checksums
from plugins_for_tests import Basics

LIMITS = {"import": {"max_record_bytes": MAX_RECORD_BYTES, "max_depth": MAX_DEPTH}}


@pytest.fixture
def toolkit(make_toolkit: Any) -> Toolkit:
    toolkit: Toolkit = make_toolkit(plugins={"basics": Basics}, config=LIMITS)
    toolkit.upsert_party("base", "person", "Base")
    return toolkit


def check_case(toolkit: Toolkit, case: Case, path: Path) -> list[str]:
    """Every expectation about one generated file; the broken ones, described."""
    problems: list[str] = []
    path.write_bytes(case.content())
    invalid = case.invalid_lines()
    before = table_checksums(toolkit.engine)
    try:
        toolkit.import_jsonl(path)
    except RecordsRejected as error:
        named = sorted(item.line for item in error.report.rejected)
        if not invalid or not set(named) <= set(invalid) or not named:
            problems.append(f"all-or-nothing rejected lines {named}, broken lines are {invalid}")
        if any(not item.reason.strip() for item in error.report.rejected):
            problems.append("a rejection without a reason")
    else:
        if invalid:
            problems.append(f"all-or-nothing accepted broken lines {invalid}")
    if invalid and changed_tables(before, table_checksums(toolkit.engine)):
        problems.append("all-or-nothing import wrote something")
    report = toolkit.import_jsonl(path, skip_invalid=True)
    rejected = sorted(item.line for item in report.rejected)
    if rejected != invalid:
        reasons = {item.line: item.reason for item in report.rejected}
        problems.append(f"skip-invalid rejected {rejected} ({reasons}), broken lines are {invalid}")
    for key, body in case.parties().items():
        stored = toolkit.party(key)
        if stored.name != body.get("name") or dict(stored.attributes) != body.get("attributes", {}):
            problems.append(f"party {key!r} stored as {stored.name!r} {stored.attributes!r}")
    keys = case.interaction_keys()
    once = toolkit.import_jsonl(path, skip_invalid=True)
    if once.created:
        problems.append(f"a second import created {dict(once.created)}")
    if keys:
        with toolkit.engine.connect() as connection:
            found = connection.execute(
                sa.select(interaction_table.c.key, sa.func.count())
                .where(interaction_table.c.key.in_(keys))
                .group_by(interaction_table.c.key)
            ).all()
        counts = {key: count for key, count in found}
        if counts != dict.fromkeys(keys, 1):
            problems.append(f"interactions stored {counts}, expected each of {keys} once")
    return problems


def test_generated_files_import_as_expected(toolkit: Toolkit, tmp_path: Path) -> None:
    failures: list[str] = []
    cases = BUDGET.fuzz_cases
    lines = 0
    for seed in range(cases):
        case = generate(seed)
        lines += len(case.lines)
        problems = check_case(toolkit, case, tmp_path / "fuzz.jsonl")
        if problems:
            failures.append(case.describe() + "\n  " + "\n  ".join(problems))
    assert failures == [], "\n\n".join(failures[:5])
    record_cases("import fuzz: generated files", cases, cases - len(failures))
    record_cases("import fuzz: generated lines", lines, lines)


def test_values_with_sql_metacharacters_are_stored_verbatim(toolkit: Toolkit) -> None:
    nasty = "'; DROP TABLE party; -- \" \\ %s %(x)s ? $1 :name"
    toolkit.write(
        [{"party": {"key": nasty, "kind": "person", "name": nasty, "attributes": {nasty: nasty}}}]
    )
    stored = toolkit.party(nasty)
    assert (stored.key, stored.name, dict(stored.attributes)) == (nasty, nasty, {nasty: nasty})
    assert toolkit.party("base").name == "Base"  # the party table is still there


# -- the command line, once per kind of damage ---------------------------------------------------


@pytest.fixture
def cli_config(tmp_path: Path, partygraph_database_url: str) -> Path:
    path = tmp_path / "partygraph.json"
    config = {"database": {"url": partygraph_database_url}, "plugins": {"enabled": []}, **LIMITS}
    path.write_text(json.dumps(config))
    return path


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


KINDS_OF_DAMAGE = 14  # the branches of import_fuzz_cases._broken


def test_the_command_line_names_the_line_and_exits_2(
    cli_config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import random

    good = b'{"party": {"key": "fine", "kind": "person", "name": "Fine"}}\n'
    seen: set[str] = set()
    tried = 0
    for seed in range(400):
        rng = random.Random(seed)
        raw, why = _broken(rng, f"k{seed}")
        kind = why.split(" = ")[0].split(" ")[0]
        if kind in seen or why.startswith("interaction"):
            continue  # interactions need a plugin's vocabulary; one file per kind of damage
        seen.add(kind)
        tried += 1
        path = tmp_path / f"damaged-{seed}.jsonl"
        path.write_bytes(good + raw + b"\n" + good)
        code, out, err = run_cli(capsys, "--config", str(cli_config), "import", str(path))
        assert code == 2, f"{why}: exit {code}: {err}"
        assert "line 2:" in err, f"{why}: {err}"
        assert "Traceback" not in err + out, why
        assert "internal error" not in err, why
        code, out, err = run_cli(
            capsys, "--config", str(cli_config), "import", str(path), "--skip-invalid", "--json"
        )
        assert code == 0, f"{why}: exit {code}: {err}"
        summary = json.loads(out)
        assert [item["line"] for item in summary["rejected"]] == [2], why
    assert tried >= KINDS_OF_DAMAGE - 3
    record_cases("import fuzz: command line", tried * 2, tried * 2)
