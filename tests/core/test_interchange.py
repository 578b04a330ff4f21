"""JSON Lines import: records, line numbers, bounds and all-or-nothing."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from partygraph import RecordsRejected, Toolkit, UserError
from partygraph.interchange import MAX_DEPTH, Unreadable, read_jsonl
from plugins_for_tests import EMPTY, Basics, Recorder, core_counts, count_rows, notes_plugin

GOOD = [
    {"party": {"key": "alice", "kind": "person", "name": "Alice Moreau",
               "attributes": {"email": "alice@example.org", "birth_date": "1990-04-02"}}},
    {"party": {"key": "home", "kind": "household", "name": "The Moreaus"}},
    {"relationship": {"type": "member_of", "source": "alice", "target": "home", "role": "head",
                      "valid_from": "2026-01-10"}},
    {"interaction": {"type": "purchase", "occurred_at": "2026-02-01T10:00:00Z", "key": "o-1",
                     "participants": [{"party": "alice", "role": "purchaser"}],
                     "payload": {"amount": 42.5}}},
]  # fmt: skip


def jsonl(path: Path, *lines: Any) -> Path:
    """Write records (dicts are dumped, strings written as they are) one per line."""
    text = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
    path.write_text(text + "\n", encoding="utf-8")
    return path


@pytest.fixture
def toolkit(make_toolkit: Any) -> Toolkit:
    toolkit: Toolkit = make_toolkit(
        plugins={"basics": Basics, "recorder": Recorder},
        config={"import": {"max_record_bytes": 2048}},
    )
    return toolkit


def test_import_a_good_file(toolkit: Toolkit, tmp_path: Path) -> None:
    path = jsonl(tmp_path / "good.jsonl", *GOOD)
    seen: list[int] = []
    report = toolkit.import_jsonl(path, progress=seen.append)
    assert report.created == {"party": 2, "relationship": 1, "interaction": 1}
    assert report.rejected == []
    assert report.read == 4
    assert seen[-1] == path.stat().st_size
    alice = toolkit.party("alice")
    assert alice.attributes == {"email": "alice@example.org", "birth_date": "1990-04-02"}
    assert [role.role for role in toolkit.roles("alice")] == ["customer", "head_of_household"]
    (interaction,) = toolkit.interactions("alice")
    assert interaction.key == "o-1"
    calls = toolkit.plugin_objects["recorder"].before
    assert {call["source"] for call in calls} == {"import"}


def test_importing_the_same_file_twice_updates_and_never_duplicates(
    toolkit: Toolkit, tmp_path: Path
) -> None:
    path = jsonl(tmp_path / "good.jsonl", *GOOD)
    toolkit.import_jsonl(path)
    again = toolkit.import_jsonl(path)
    assert again.created == {}
    assert again.unchanged == {"party": 2, "relationship": 1, "interaction": 1}
    assert core_counts(toolkit) == {
        "party": 2,
        "relationship": 1,
        "interaction": 1,
        "participant": 1,
    }


def test_import_from_a_binary_stream_and_blank_lines(toolkit: Toolkit) -> None:
    text = "\n\n".join(json.dumps(record) for record in GOOD[:2]) + "\n   \n"
    report = toolkit.import_jsonl(io.BytesIO(text.encode()))
    assert report.created == {"party": 2}


def test_bad_json_line_is_rejected_with_its_line_number(toolkit: Toolkit, tmp_path: Path) -> None:
    path = jsonl(tmp_path / "bad.jsonl", GOOD[0], '{"party": {"key": "bob", ', GOOD[1])
    with pytest.raises(RecordsRejected) as caught:
        toolkit.import_jsonl(path)
    (rejection,) = caught.value.report.rejected
    assert rejection.line == 2
    assert rejection.reason.startswith("not valid JSON")
    assert "line 2: not valid JSON" in str(caught.value)
    assert core_counts(toolkit) == EMPTY


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ({"party": GOOD[0]["party"], "interaction": {}}, "exactly one key"),
        ({}, "exactly one key"),
        ([1, 2], "exactly one key"),
        ({"party": "alice"}, "party: must be an object"),
        ({"widget": {"key": "w"}}, "unknown record type 'widget'"),
        ({"party": {"key": "x"}}, "/kind: is required"),
        ({"party": {"key": "x", "kind": "person", "colour": "red"}}, "unknown key 'colour'"),
        ({"interaction": {"type": "meeting", "occurred_at": "tomorrow!!", "participants": [
            {"party": "alice", "role": "host"}]}}, "occurred_at"),
    ],
)  # fmt: skip
def test_invalid_records_are_rejected_with_a_reason(
    toolkit: Toolkit, tmp_path: Path, line: Any, fragment: str
) -> None:
    path = jsonl(tmp_path / "bad.jsonl", GOOD[0], line)
    with pytest.raises(RecordsRejected) as caught:
        toolkit.import_jsonl(path)
    (rejection,) = caught.value.report.rejected
    assert rejection.line == 2
    assert fragment in rejection.reason
    assert count_rows(toolkit, "party") == 0


def test_unknown_record_type_lists_the_known_ones(toolkit: Toolkit, tmp_path: Path) -> None:
    path = jsonl(tmp_path / "bad.jsonl", {"consent": {"party": "alice"}})
    with pytest.raises(RecordsRejected) as caught:
        toolkit.import_jsonl(path)
    (rejection,) = caught.value.report.rejected
    assert rejection.reason == (
        "unknown record type 'consent'; known: interaction, party, relationship"
    )


class TrackingStream(io.BytesIO):
    """Remembers the longest piece ever handed out by ``readline``."""

    longest = 0

    def readline(self, size: int | None = -1) -> bytes:
        piece = super().readline(size)
        self.longest = max(self.longest, len(piece))
        return piece


def test_over_long_line_is_rejected_without_loading_it(toolkit: Toolkit) -> None:
    huge = json.dumps({"party": {"key": "big", "kind": "person", "name": "x" * (3 << 20)}})
    lines = [json.dumps(GOOD[0]), huge, json.dumps(GOOD[1])]
    stream = TrackingStream(("\n".join(lines) + "\n").encode())
    report = toolkit.import_jsonl(stream, skip_invalid=True)
    (rejection,) = report.rejected
    assert rejection.line == 2
    assert f"record is {len(huge) + 1} bytes; the limit is 2048" in rejection.reason
    assert "import.max_record_bytes" in rejection.reason
    assert stream.longest <= 1 << 20  # never the whole 3 MiB line at once
    assert report.created == {"party": 2}
    assert toolkit.party("home").name == "The Moreaus"  # the line after it was read intact


def test_line_at_the_limit_is_accepted(toolkit: Toolkit, tmp_path: Path) -> None:
    record = {"party": {"key": "fit", "kind": "person", "attributes": {"pad": ""}}}
    padding = 2048 - len(json.dumps(record)) - 1  # the newline counts too
    record["party"]["attributes"]["pad"] = "y" * padding
    path = jsonl(tmp_path / "edge.jsonl", record)
    assert path.stat().st_size == 2048
    assert toolkit.import_jsonl(path).created == {"party": 1}
    record["party"]["attributes"]["pad"] += "y"
    jsonl(path, record)
    with pytest.raises(RecordsRejected, match="record is 2049 bytes; the limit is 2048"):
        toolkit.import_jsonl(path)


def test_a_long_value_is_not_echoed_back(toolkit: Toolkit, tmp_path: Path) -> None:
    path = jsonl(
        tmp_path / "long.jsonl", {"party": {"key": "x", "kind": "person", "name": "n" * 1500}}
    )
    with pytest.raises(RecordsRejected) as caught:
        toolkit.import_jsonl(path)
    (rejection,) = caught.value.report.rejected
    assert rejection.reason == "/name: value is too long"


def test_deep_nesting_is_rejected(toolkit: Toolkit, tmp_path: Path) -> None:
    nested: Any = "bottom"
    for _ in range(MAX_DEPTH + 5):
        nested = {"n": nested}
    deep = {"party": {"key": "deep", "kind": "person", "attributes": nested}}
    shallow: Any = "bottom"
    for _ in range(10):
        shallow = [shallow]
    ok = {"party": {"key": "ok", "kind": "person", "attributes": {"list": shallow}}}
    path = jsonl(tmp_path / "deep.jsonl", ok, deep)
    report = toolkit.import_jsonl(path, skip_invalid=True)
    (rejection,) = report.rejected
    assert rejection.line == 2
    assert rejection.reason == f"party: nested deeper than {MAX_DEPTH} levels (import.max_depth)"
    assert report.created == {"party": 1}


def test_skip_invalid_versus_all_or_nothing(toolkit: Toolkit, tmp_path: Path) -> None:
    path = jsonl(
        tmp_path / "mixed.jsonl",
        GOOD[0],
        "not json at all",
        GOOD[1],
        {"party": {"key": "r2d2", "kind": "robot"}},
        GOOD[2],
        GOOD[3],
    )
    with pytest.raises(RecordsRejected) as caught:
        toolkit.import_jsonl(path)
    assert [r.line for r in caught.value.report.rejected] == [2, 4]
    assert core_counts(toolkit) == EMPTY

    report = toolkit.import_jsonl(path, skip_invalid=True)
    assert [r.line for r in report.rejected] == [2, 4]
    assert report.created == {"party": 2, "relationship": 1, "interaction": 1}
    assert core_counts(toolkit) == {
        "party": 2,
        "relationship": 1,
        "interaction": 1,
        "participant": 1,
    }


def test_missing_file_is_a_user_error(toolkit: Toolkit, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="cannot read"):
        toolkit.import_jsonl(tmp_path / "absent.jsonl")


def test_reader_yields_line_numbers_and_unreadable_lines() -> None:
    stream = io.BytesIO(b'{"party": {"key": "a", "kind": "person"}}\n\n[1]\n{"x": {}}')
    records = list(read_jsonl(stream, 1024).records())
    assert [(number, kind) for number, kind, _ in records] == [
        (1, "party"),
        (3, "<unreadable>"),
        (4, "x"),
    ]
    assert isinstance(records[1][2], Unreadable)


def test_plugin_record_types_are_imported_after_parties(make_toolkit: Any, tmp_path: Path) -> None:
    plugin = notes_plugin(tmp_path / "notes-migrations")
    toolkit = make_toolkit(plugins={"notes": plugin})
    path = jsonl(
        tmp_path / "notes.jsonl",
        {"note": {"party": "zoe", "text": "prefers email"}},
        {"party": {"key": "zoe", "kind": "person"}},
        {"note": {"party": "zoe", "text": "met at the fair"}},
        {"note": {"party": "zoe"}},
    )
    with pytest.raises(RecordsRejected) as caught:
        toolkit.import_jsonl(path)
    (rejection,) = caught.value.report.rejected
    assert (rejection.line, rejection.record_type) == (4, "note")
    assert "/text: is required" in rejection.reason
    assert count_rows(toolkit, "notes_note") == 0

    report = toolkit.import_jsonl(path, skip_invalid=True)
    assert report.created == {"party": 1, "note": 2}
    assert plugin.applied[-1] == 2  # one call for the batch
    assert toolkit.export_subject("zoe")["plugins"] == {
        "notes": {"notes": ["prefers email", "met at the fair"]}
    }
