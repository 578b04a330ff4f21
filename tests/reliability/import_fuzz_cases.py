"""Generated JSON Lines files mixing valid records with broken ones, each line labelled.

Every generated line is known to be valid or invalid by construction: broken
lines are truncated JSON, wrong types, over-long strings and lines, nesting past
the limit, invalid UTF-8 and lone surrogates, NUL characters, infinite numbers
and records of the wrong shape. Valid lines carry the awkward values a real
file holds -- SQL metacharacters and quotes in keys, attribute names and
values, right-to-left marks, emoji, combining characters -- which must be
stored verbatim.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

import attrs

#: Limits the fuzzed toolkit is configured with (small, so that cases stay cheap).
MAX_RECORD_BYTES = 4096
MAX_DEPTH = 12

NASTY = [
    "'; DROP TABLE party; --",
    'Robert"); DELETE FROM interaction; --',
    "O'Brien",
    '"quoted"',
    "back\\slash",
    "%s %(name)s %% ? :name $1",
    "_%",
    "semi;colon",
    "\u202eevil\u202c",  # right-to-left override
    "e\u0301te\u0301",  # combining accents
    "zero\u200bwidth",
    "line\u2028separator",
    "emoji \U0001f600 \U0001f9d1\u200d\U0001f4bb",
    "中文 العربية עברית",
    "tab\tnew\nline",
    " leading and trailing ",
    "\\u0000 as text",
    "NULL",
    "null",
    "</script>",
]


@attrs.frozen
class Line:
    """One line of a generated file: its bytes, and whether it is a valid record."""

    raw: bytes
    valid: bool
    record: dict[str, Any] | None = None  # the record, when valid
    why: str = ""


def _dumps(record: Any) -> bytes:
    return json.dumps(record, ensure_ascii=False).encode()


def _text(rng: random.Random) -> str:
    if rng.random() < 0.6:
        return rng.choice(NASTY)
    alphabet = "aZ09 '\"\\;%_-é\u00e9\u4e2d\U0001f600\u200b"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40)))


def valid_party(rng: random.Random, key: str) -> dict[str, Any]:
    attributes = {_text(rng): _text(rng) for _ in range(rng.randint(0, 3))}
    if rng.random() < 0.3:
        attributes["n"] = rng.choice([0, -1, 2**62, 1.5, True, None, [1, "a"], {"x": {"y": 1}}])
    body: dict[str, Any] = {"key": key, "kind": "person", "name": _text(rng)}
    if attributes:
        body["attributes"] = attributes
    return {"party": body}


def valid_meeting(rng: random.Random, key: str, party: str) -> dict[str, Any]:
    return {
        "interaction": {
            "type": "meeting",
            "key": key,
            "occurred_at": f"2026-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T10:00:00Z",
            "participants": [{"party": party, "role": _text(rng)[:60] or "x"}],
            "payload": {_text(rng): _text(rng)},
        }
    }


def _nested(depth: int) -> Any:
    value: Any = "bottom"
    for level in range(depth):
        value = {"n": value} if level % 2 else [value]
    return value


def _wrong_types(rng: random.Random, key: str) -> tuple[bytes, str]:
    body: dict[str, Any] = {"key": key, "kind": "person", "name": "ok"}
    field, bad = rng.choice(
        [
            ("key", 123),
            ("key", None),
            ("key", ["a"]),
            ("key", {"a": 1}),
            ("key", True),
            ("key", ""),
            ("kind", 5),
            ("kind", "no-such-kind"),
            ("name", {"a": 1}),
            ("name", 12.5),
            ("attributes", "a string"),
            ("attributes", [1, 2]),
            ("extra", "not allowed"),
        ]
    )
    body[field] = bad
    return _dumps({"party": body}), f"party.{field} = {bad!r}"


def _bad_interaction(rng: random.Random, key: str) -> tuple[bytes, str]:
    body: dict[str, Any] = {
        "type": "meeting",
        "key": key,
        "occurred_at": "2026-01-01T00:00:00Z",
        "participants": [{"party": "base", "role": "host"}],
    }
    field, bad = rng.choice(
        [
            ("occurred_at", 20260101),
            ("occurred_at", "yesterday at noon"),
            ("occurred_at", "2026-13-45T99:00:00Z"),
            ("participants", []),
            ("participants", {"party": "base"}),
            ("participants", [{"party": "nobody-has-this-key", "role": "x"}]),
            ("participants", [{"party": 1.5, "role": "x"}]),
            ("participants", [{"party": 2**70, "role": "x"}]),
            ("type", "no_such_type"),
            ("payload", "text"),
        ]
    )
    body[field] = bad
    return _dumps({"interaction": body}), f"interaction.{field} = {bad!r}"


def _broken(rng: random.Random, key: str) -> tuple[bytes, str]:
    """One invalid line and a description of what is wrong with it."""
    good = _dumps(valid_party(rng, key))
    choice = rng.randrange(14)
    if choice == 0:
        return good[: rng.randrange(1, len(good) - 1)], "truncated JSON"
    if choice == 1:
        return _wrong_types(rng, key)
    if choice == 2:
        return _bad_interaction(rng, key)
    if choice == 3:
        return _dumps({"party": {"key": key, "kind": "person", "name": "n" * 1100}}), "long name"
    if choice == 4:
        return _dumps({"party": {"key": "k" * 600, "kind": "person"}}), "long key"
    if choice == 5:
        padding = "p" * (MAX_RECORD_BYTES + rng.randint(0, 3000))
        return _dumps({"party": {"key": key, "kind": "person", "name": padding}}), "long line"
    if choice == 6:
        depth = rng.randint(MAX_DEPTH, MAX_DEPTH + 20)
        record = {"party": {"key": key, "kind": "person", "attributes": {"a": _nested(depth)}}}
        return _dumps(record), f"nested {depth} deep"
    if choice == 7:
        depth = rng.choice([1000, 5000])
        return b'{"party": {"attributes": ' + b"[" * depth + b"]" * depth + b"}}", "very deep"
    if choice == 8:
        bad = rng.choice([b"\xff\xfe", b"\xc3\x28", b"\xed\xa0\x80", b"\x80"])
        return b'{"party": {"key": "' + bad + b'", "kind": "person"}}', "invalid UTF-8"
    if choice == 9:
        text = rng.choice(['"\\ud800"', '"\\udfff x"', '"a\\ud83d"'])
        return f'{{"party": {{"key": {text}, "kind": "person"}}}}'.encode(), "lone surrogate"
    if choice == 10:
        where = rng.choice(["key", "name", "attribute name", "attribute value"])
        body: dict[str, Any] = {"key": key, "kind": "person"}
        if where == "key":
            body["key"] = key + "\x00"
        elif where == "name":
            body["name"] = "nul\x00name"
        elif where == "attribute name":
            body["attributes"] = {"a\x00b": 1}
        else:
            body["attributes"] = {"a": ["x", "y\x00"]}
        return _dumps({"party": body}), f"NUL in {where}"
    if choice == 11:
        number = rng.choice(["1e400", "-1e999", "NaN", "Infinity"])
        head = '{"party": {"key": ' + json.dumps(key) + ', "kind": "person", "attributes": '
        return (head + '{"n": ' + number + "}}}").encode(), number
    if choice == 12:
        shape = rng.choice(
            [b"[]", b'"text"', b"{}", b"null", b"42", b'{"party": []}', b'{"party": "alice"}',
             b'{"unknown_type": {"key": "x"}}',
             b'{"party": {"key": "x", "kind": "person"}, "x": 1}']
        )  # fmt: skip
        return shape, "wrong shape"
    return b'{"party": {"key": ' + json.dumps(key).encode() + b', "kind": ', "cut at a value"


@attrs.frozen
class Case:
    """A generated file: its lines, and what must be stored from it."""

    seed: int
    lines: list[Line]

    def content(self) -> bytes:
        return b"".join(line.raw + b"\n" for line in self.lines)

    def invalid_lines(self) -> list[int]:
        return [number for number, line in enumerate(self.lines, 1) if not line.valid]

    def parties(self) -> dict[str, dict[str, Any]]:
        """Valid party records by key."""
        found = {}
        for line in self.lines:
            if line.valid and line.record and "party" in line.record:
                found[line.record["party"]["key"]] = line.record["party"]
        return found

    def interaction_keys(self) -> list[str]:
        return [
            line.record["interaction"]["key"]
            for line in self.lines
            if line.valid and line.record and "interaction" in line.record
        ]

    def describe(self) -> str:
        shown = [
            f"{number}: {'ok ' if line.valid else 'BAD'} {line.why} {line.raw[:120]!r}"
            for number, line in enumerate(self.lines, 1)
        ]
        return f"seed {self.seed}:\n" + "\n".join(shown)


def generate(seed: int, base_party: str = "base") -> Case:
    """A file of 2 to 8 lines, about a third of them broken."""
    rng = random.Random(seed)
    lines: list[Line] = []
    for index in range(rng.randint(2, 8)):
        key = f"c{seed}-{index}-{_text(rng)}"[:500]
        roll = rng.random()
        if roll < 0.35:
            raw, why = _broken(rng, key)
            lines.append(Line(raw, False, None, why))
        elif roll < 0.75:
            record = valid_party(rng, key)
            lines.append(Line(_dumps(record), True, record, "party"))
        else:
            record = valid_meeting(rng, key, base_party)
            lines.append(Line(_dumps(record), True, record, "meeting"))
    return Case(seed, lines)


Generator = Callable[[int], Case]
