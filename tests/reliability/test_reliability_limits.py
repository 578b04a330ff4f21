"""Denial of service by input: record size, nesting depth and batch size are bounded.

Each limit (``import.max_record_bytes``, ``import.max_depth``,
``import.max_batch_size``, ``import.max_batch_bytes``) gives a clear error
naming the line and the limit, or cuts batches early, on every way in: JSON
Lines, CSV, ``Toolkit.write`` and the command line. A file holding one huge
line is imported with bounded memory.
"""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reliability_support import record_cases

import partygraph.limits as limits_module
from partygraph import ConfigError, Party, RecordsRejected, Toolkit, ValidationError
from partygraph.cli import main
from partygraph.limits import InputLimits
from plugins_for_tests import Basics, Recorder, core_counts

LIMITS = {
    "import": {
        "max_record_bytes": 2048,
        "max_depth": 8,
        "max_batch_size": 50,
        "batch_size": 20,
        "max_batch_bytes": 4096,
    }
}


@pytest.fixture
def toolkit(make_toolkit: Any) -> Toolkit:
    toolkit: Toolkit = make_toolkit(plugins={"basics": Basics, "recorder": Recorder}, config=LIMITS)
    return toolkit


def nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth - 1):
        value = {"n": value}
    return value


def party(key: str, **attributes: Any) -> dict[str, Any]:
    return {"party": {"key": key, "kind": "person", "attributes": attributes}}


def test_nesting_beyond_the_limit_is_refused_on_every_way_in(
    toolkit: Toolkit, tmp_path: Path
) -> None:
    deep, fine = party("deep", a=nested(8)), party("fine", a=nested(5))
    path = tmp_path / "deep.jsonl"
    path.write_text(json.dumps(fine) + "\n" + json.dumps(deep) + "\n")
    before = core_counts(toolkit)
    with pytest.raises(RecordsRejected) as caught:
        toolkit.import_jsonl(path)
    (rejection,) = caught.value.report.rejected
    assert rejection.line == 2
    assert rejection.reason == "party: nested deeper than 8 levels (import.max_depth)"
    with pytest.raises(RecordsRejected, match=r"line 2: party: nested deeper than 8 levels"):
        toolkit.write([fine, deep])
    with pytest.raises(ValidationError, match="nested deeper than 8 levels"):
        toolkit.upsert_party("deep", "person", attributes={"a": nested(8)})
    with pytest.raises(RecordsRejected, match="line 1: party: nested deeper"):
        toolkit.write([Party("deep", "person", attributes={"a": nested(8)})])
    assert core_counts(toolkit) == before
    report = toolkit.write([fine, deep], skip_invalid=True)
    assert (report.created, [item.line for item in report.rejected]) == ({"party": 1}, [2])


def test_a_batch_size_over_the_limit_is_refused_before_anything_is_read(
    toolkit: Toolkit, make_toolkit: Any
) -> None:
    consumed: list[int] = []

    def records() -> Any:
        for index in range(3):
            consumed.append(index)
            yield party(f"p{index}")

    with pytest.raises(ValidationError) as caught:
        toolkit.write(records(), batch_size=51)
    assert caught.value.field == "batch_size"
    assert "over the limit of 50 (import.max_batch_size)" in str(caught.value)
    assert consumed == []
    with pytest.raises(ValidationError, match="batch_size: must be a positive integer"):
        toolkit.write([party("a")], batch_size=0)
    with pytest.raises(ConfigError, match=r"/import/batch_size: must be at most import\."):
        make_toolkit(config={"import": {"batch_size": 500, "max_batch_size": 100}})


def test_batches_are_cut_by_bytes_as_well_as_by_count(toolkit: Toolkit, tmp_path: Path) -> None:
    path = tmp_path / "wide.jsonl"
    lines = [json.dumps(party(f"w{index}", pad="x" * 900)) for index in range(12)]
    path.write_text("\n".join(lines) + "\n")
    assert all(1000 > len(line) > 900 for line in lines)
    toolkit.import_jsonl(path)
    sizes = [call["size"] for call in toolkit.plugin("recorder").calls("party")]
    assert sum(sizes) == 12
    assert max(sizes) == 5  # 4096 bytes reached on the fifth line of ~1 KB, not 20 a batch
    narrow = tmp_path / "narrow.jsonl"
    narrow.write_text("".join(json.dumps(party(f"n{index}")) + "\n" for index in range(45)))
    toolkit.plugin("recorder").before.clear()
    toolkit.import_jsonl(narrow)
    assert [call["size"] for call in toolkit.plugin("recorder").calls("party")] == [20, 20, 5]


def test_one_huge_line_is_skipped_with_bounded_memory(toolkit: Toolkit, tmp_path: Path) -> None:
    path = tmp_path / "huge.jsonl"
    with path.open("wb") as handle:
        handle.write(json.dumps(party("before")).encode() + b"\n")
        handle.write(b'{"party": {"key": "huge", "kind": "person", "name": "')
        for _ in range(24):
            handle.write(b"x" * (1 << 20))
        handle.write(b'"}}\n' + json.dumps(party("after")).encode() + b"\n")
    tracemalloc.start()
    try:
        report = toolkit.import_jsonl(path, skip_invalid=True)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    (rejection,) = report.rejected
    assert rejection.line == 2
    assert "the limit is 2048 (import.max_record_bytes)" in rejection.reason
    assert report.created == {"party": 2}
    assert peak < 4 << 20, f"peak {peak} bytes for a 24 MiB line"


def test_csv_rows_are_bounded_and_errors_name_the_line(
    tmp_path: Path, partygraph_database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "partygraph.json"
    settings = {"database": {"url": partygraph_database_url}, "plugins": {"enabled": []}}
    config.write_text(json.dumps({**settings, **LIMITS}))
    cases = {
        "long row": b"key,name\nok,Ok\nlong," + b"y" * 3000 + b"\n",
        "not UTF-8": b"key,name\nok,Ok\nbad,\xff\xfe\n",
        "NUL": b"key,name\nok,Ok\nnul,a\x00b\n",
        "no key column": b"name\nAlice\n",
        "deep quote": b'key,name\nok,Ok\nq,"unterminated\n',
    }
    expected = {
        "long row": "line 3: longer than 2048 bytes (import.max_record_bytes)",
        "not UTF-8": "line 3: not UTF-8 text",
        "NUL": "line 3: ",
        "no key column": "a CSV import needs a header row with a 'key' column",
        "deep quote": "line 3",
    }
    for name, content in cases.items():
        path = tmp_path / f"{name.replace(' ', '-')}.csv"
        path.write_bytes(content)
        code = main(["--config", str(config), "import", str(path), "--kind", "person"])
        err = capsys.readouterr().err
        assert code == 2, f"{name}: exit {code}: {err}"
        assert expected[name] in err, f"{name}: {err}"
        assert "Traceback" not in err
        code = main(["--config", str(config), "explain", "ok"])
        assert code == 2, f"{name}: something was written"  # all-or-nothing: no party 'ok'
        capsys.readouterr()
    record_cases("limits: CSV damage via the command line", len(cases), len(cases))


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(1 << 70), max_value=1 << 70)
    | st.floats()
    | st.text(alphabet=st.characters(codec="utf-8"), max_size=6),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(json_values, st.integers(min_value=1, max_value=6))
def test_the_quick_check_never_clears_what_the_walk_refuses(value: Any, depth: int) -> None:
    limits = InputLimits(max_depth=depth)
    walked = limits_module.record_problem("record", value, limits)
    if limits_module._plainly_storable(value, depth):
        assert walked is None
