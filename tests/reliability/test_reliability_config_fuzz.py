"""Fuzzing the config loader: any damage is a config error naming where, never a traceback.

Two generators: textual damage to a valid TOML file (truncation, stray
brackets and quotes, NUL bytes and invalid UTF-8, duplicated lines, values
swapped for wrong types, huge strings, deep nesting), and typed damage to a
valid config dict (a wrong value at a known setting). Every outcome is either
a valid config or a :class:`ConfigError`; a typed wrong value is always
reported at its own JSON pointer. The command line answers exit 0 or 2.
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest
from reliability_support import BUDGET, record_cases

import partygraph
from partygraph import ConfigError
from partygraph.cli import main

TEMPLATE = """\
# a valid config
[database]
url = "sqlite:///fuzz.db"
echo = false

[plugins]
enabled = ["b2c", "household", "privacy"]

[import]
batch_size = 250
max_record_bytes = 65536

[attributes.parties.person.properties.crm_id]
type = "string"
maxLength = 40

[attributes.parties.person]
required = ["crm_id"]
"""

STRAY = ["[", "]", '"', "'", "=", "{", "}", ",", "\x00", "\\", "\n", "[[", "\ud83d\ude00", "\u202e"]
VALUES = [
    '"three"',
    "true",
    "[1,",
    "{a = 1}",
    "-1",
    "1e999",
    "nan",
    "0x10",
    '"' + "x" * 100_000 + '"',
    "[" * 2000 + "]" * 2000,
    "{ a = " * 200 + "1" + " }" * 200,
    '"\'; DROP TABLE party; --"',
    '"\\u0000"',
    '"\\ud800"',
    "1979-05-27T07:32:00Z",
    '"""multi\nline"""',
]


def damage_text(rng: random.Random) -> bytes:
    """The template with one or two random textual damages."""
    text = TEMPLATE
    for _ in range(rng.randint(1, 2)):
        lines = text.splitlines(keepends=True)
        action = rng.randrange(6)
        if action == 0:
            text = text[: rng.randrange(len(text))]
        elif action == 1:
            at = rng.randrange(len(text))
            text = text[:at] + rng.choice(STRAY) + text[at:]
        elif action == 2 and lines:
            index = rng.randrange(len(lines))
            lines.insert(index, lines[index])
            text = "".join(lines)
        elif action == 3 and any(" = " in line for line in lines):
            settings = [i for i, line in enumerate(lines) if " = " in line]
            index = rng.choice(settings)
            key = lines[index].split(" = ")[0]
            lines[index] = f"{key} = {rng.choice(VALUES)}\n"
            text = "".join(lines)
        elif action == 4:
            name = rng.choice(["'; DROP TABLE x; --", "clé", "\u202ekey", "a.b", "\U0001f600"])
            lines.insert(rng.randrange(len(lines) + 1), f'"{name}" = 1\n')
            text = "".join(lines)
        else:
            encoded = text.encode("utf-8", "surrogatepass")
            at = rng.randrange(len(encoded))
            bad = rng.choice([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\x00"])
            return encoded[:at] + bad + encoded[at:]
    return text.encode("utf-8", "surrogatepass")


VALID: dict[str, Any] = {
    "database": {"url": "sqlite:///fuzz.db", "echo": False, "auto_migrate": True},
    "plugins": {"enabled": ["b2c", "household"], "b2c": {}},
    "import": {"batch_size": 250, "max_record_bytes": 65536, "max_depth": 32},
    "attributes": {"parties": {"person": {"properties": {"crm_id": {"type": "string"}}}}},
}
#: Settings, and values that are wrong for each (by type or by range).
WRONG: dict[tuple[str, ...], list[Any]] = {
    ("database", "url"): [5, None, [], "", "x" * 5000, "sqlite:///a\x00b"],
    ("database", "echo"): ["yes", 1, None, {}],
    ("database", "auto_migrate"): ["no", [True]],
    ("plugins", "enabled"): ["b2c", [1], ["b2c", "b2c"], [""], ["no such plugin"], {"a": 1}],
    ("import", "batch_size"): ["three", 0, -5, 2.5, 10**30, True, None],
    ("import", "max_record_bytes"): [10, "big", 1.5],
    ("import", "max_depth"): [0, 1, 10**6, "deep"],
    ("attributes", "parties", "person", "properties", "crm_id", "type"): ["strin", 5, []],
    ("attributes", "parties", "person", "properties", "crm_id"): [
        {"pattern": "(unclosed"},
        {"$ref": "file:///etc/passwd"},
        {"$ref": "https://example.org/schema.json"},
        {"minLength": -1},
    ],
    ("attributes", "parties", "no_such_kind"): [{"properties": {}}],
    ("'; DROP TABLE party; --",): [1],
    ("database", "\x00"): [1],
    ("import", "\u202ebatch_size"): [1],
}


def outcome(source: Any) -> str | ConfigError:
    """'valid', or the ConfigError; anything else escapes and fails the test."""
    try:
        partygraph.check_config(source)
    except ConfigError as error:
        return error
    return "valid"


def test_damaged_toml_files_are_config_errors(tmp_path: Path) -> None:
    cases = BUDGET.fuzz_cases
    invalid = 0
    path = tmp_path / "partygraph.toml"
    for seed in range(cases):
        path.write_bytes(damage_text(random.Random(seed)))
        result = outcome(path)
        if isinstance(result, ConfigError):
            invalid += 1
            assert str(result).startswith(f"Invalid config in {path}"), (seed, str(result))
            assert result.violations, seed
            message = str(result)
            if "not valid TOML" in message or "not UTF-8" in message:
                assert result.violations[0].line is not None, (seed, message)
            assert len(message) < 20_000, (seed, "the error repeats a huge value")
    assert invalid > cases // 2  # most damage breaks the file; the checks above ran
    record_cases("config fuzz: damaged TOML files", cases, cases)


def test_a_wrong_value_is_reported_at_its_pointer() -> None:
    tried = 0
    for path, values in WRONG.items():
        for value in values:
            config = copy.deepcopy(VALID)
            place = config
            for part in path[:-1]:
                place = place.setdefault(part, {})
            place[path[-1]] = value
            result = outcome(config)
            assert isinstance(result, ConfigError), (path, value)
            pointer = "/" + "/".join(path)
            pointers = [violation.pointer for violation in result.violations]
            assert any(pointer.startswith(p) or p.startswith(pointer) for p in pointers), (
                path,
                value,
                pointers,
            )
            tried += 1
    record_cases("config fuzz: wrong values at known settings", tried, tried)


def test_random_wrong_values_in_random_places(tmp_path: Path) -> None:
    rng = random.Random(12)
    pool: list[Any] = [
        None, True, -1, 0, 2**70, 1.5, "", "x" * 10_000, "'; --", "\u0000", [], [[[[1]]]], {},
        {"a": {"b": {"c": {}}}}, "\U0001f600", "\ud800",
    ]  # fmt: skip
    tried = 0
    for case in range(BUDGET.fuzz_cases // 2):
        config = copy.deepcopy(VALID)
        section = rng.choice(list(config))
        inner = config[section]
        key = rng.choice([*inner, "unknown"])
        inner[key] = rng.choice(pool)
        target = tmp_path / "partygraph.json"
        target.write_text(json.dumps(config, ensure_ascii=True))
        tried += 1
        result = outcome(config if case % 2 else target)  # as a dict, and as a JSON file
        if isinstance(result, ConfigError):
            assert result.violations, (section, key, inner[key])
    record_cases("config fuzz: random values in random places", tried, tried)


@pytest.mark.parametrize("seed", range(4))
def test_the_command_line_exits_2_on_a_damaged_config(
    seed: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = random.Random(1000 + seed)
    path = tmp_path / "partygraph.toml"
    while True:
        path.write_bytes(damage_text(rng))
        if isinstance(outcome(path), ConfigError):
            break
    code = main(["config", "validate", str(path)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"error: Invalid config in {path}")
    assert "Traceback" not in err
    code = main(["config", "validate", str(path), "--json"])
    out = capsys.readouterr().out
    assert code == 2
    assert json.loads(out)["valid"] is False
