"""Fault injection: a plugin raising at any write-path hook leaves every table as it was.

A faulty plugin raises at each hook point in turn -- ``before_write`` and
``after_write`` of every phase (parties, relationships, a plugin record type,
interactions), on the first and on a later batch, a record type's ``apply``,
``erase_subject`` -- during single writes, batch writes and a JSON Lines
import, with only the core and with every first-party plugin enabled. After
each fault the caller gets the plugin's error and a digest of all rows of every
table is unchanged. The privacy plugin's audit log is the one table that grows,
by design: it records the refused write (one ``write_refused`` entry) after
the rollback, in a transaction of its own.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from reliability_support import (
    FaultPoint,
    FaultyPlugin,
    InjectedFault,
    changed_tables,
    record_cases,
    table_rows,
)

from partygraph import Toolkit
from partygraph.plugins import first_party_plugins
from partygraph.testing import table_checksums

AUDIT = "privacy_audit"
FIRST_PARTY = first_party_plugins()

Record = dict[str, Any]

BASE: list[Record] = [
    {"party": {"key": f"p{index}", "kind": "person", "name": f"P{index}"}} for index in range(4)
]


def call(at: str, *keys: str) -> Record:
    participants = [{"party": key, "role": "caller"} for key in keys]
    return {"interaction": {"type": "call", "occurred_at": at, "participants": participants}}


#: Cut in batches of three: every phase runs in at least two batches.
BATCH: list[Record] = [
    {"party": {"key": "p0", "kind": "person", "attributes": {"note": "updated"}}},
    {"party": {"key": "n1", "kind": "person", "name": "N1"}},
    {"relationship": {"type": "knows", "source": "p0", "target": "n1", "valid_from": "2026-01-01"}},
    {"tag": {"party": "p1", "tag": "vip"}},
    call("2026-02-01T10:00:00Z", "p1"),
    {"party": {"key": "n2", "kind": "person", "name": "N2"}},
    {"relationship": {"type": "knows", "source": "p2", "target": "n2", "valid_from": "2026-01-02"}},
    {"tag": {"party": "n1", "tag": "new"}},
    call("2026-02-02T10:00:00Z", "n1", "p2"),
]  # fmt: skip

#: With the first-party plugins: a purchase (b2c), a household (household), a consent (privacy).
FIRST_PARTY_BATCH: list[Record] = [
    {"party": {"key": "home", "kind": "household", "name": "Home"}},
    {"relationship": {"type": "member_of", "source": "p1", "target": "home", "role": "head",
                      "valid_from": "2026-01-01"}},
    {"consent": {"party": "p0", "purpose": "marketing", "basis": "consent",
                 "granted_at": "2026-01-10T09:00:00Z"}},
    {"interaction": {"type": "purchase", "occurred_at": "2026-03-01T10:00:00Z",
                     "participants": [{"party": "p0", "role": "purchaser"}],
                     "payload": {"order_id": "o-1", "currency": "EUR", "lines": [
                         {"sku": "S1", "category": "home", "quantity": 1, "unit_price": 9.5}]}}},
]  # fmt: skip

BATCH_PHASES = ("party", "relationship", "tag", "interaction")


def batch_points() -> list[FaultPoint]:
    points = [
        FaultPoint(hook, phase, number)
        for phase in BATCH_PHASES
        for hook in ("before_write", "after_write")
        for number in (1, 2)
    ]
    return [*points, FaultPoint("apply", "tag", 1), FaultPoint("apply", "tag", 2)]


Operation = Callable[[Toolkit], object]


def single_operations() -> list[tuple[str, Operation, list[FaultPoint]]]:
    def both(phase: str) -> list[FaultPoint]:
        return [FaultPoint("before_write", phase), FaultPoint("after_write", phase)]

    return [
        ("upsert_party", lambda t: t.upsert_party("p1", "person", "P1", {"x": 1}), both("party")),
        ("upsert_party (new)", lambda t: t.upsert_party("z9", "person", "Z"), both("party")),
        ("relate", lambda t: t.relate("p0", "p2", "knows", valid_from="2026-01-05"),
         both("relationship")),
        ("record_interaction", lambda t: t.record_interaction(
            "call", "2026-02-03T10:00:00Z", [("p3", "caller")]), both("interaction")),
        ("write one tag", lambda t: t.write([{"tag": {"party": "p3", "tag": "one"}}]),
         [*both("tag"), FaultPoint("apply", "tag")]),
        ("erase_subject", lambda t: t.erase_subject("p3"), [FaultPoint("erase_subject")]),
    ]  # fmt: skip


def audit_refusals(toolkit: Toolkit) -> int:
    if AUDIT not in sa.inspect(toolkit.engine).get_table_names():
        return 0
    with toolkit.engine.connect() as connection:
        query = f"SELECT count(*) FROM {AUDIT} WHERE action = 'write_refused'"
        return int(connection.exec_driver_sql(query).scalar_one())


def audit_digest(toolkit: Toolkit) -> list[str]:
    """The audit log's rows other than refused-write entries (which the rollback adds)."""
    if AUDIT not in sa.inspect(toolkit.engine).get_table_names():
        return []
    with toolkit.engine.connect() as connection:
        return [row for row in table_rows(connection, AUDIT) if '"write_refused"' not in row]


class Harness:
    """Runs operations with a fault armed and checks that nothing changed."""

    def __init__(self, toolkit: Toolkit) -> None:
        self.toolkit = toolkit
        self.plugin: FaultyPlugin = toolkit.plugin("faulty")
        self.failures: list[str] = []
        self.tried = 0

    def expect_rollback(
        self,
        label: str,
        operation: Operation,
        point: FaultPoint,
        *,
        told: bool = True,
        fail_when_told: bool = False,
    ) -> None:
        self.tried += 1
        toolkit = self.toolkit
        before = table_checksums(toolkit.engine, skip=[AUDIT])
        audit_before, refusals_before = audit_digest(toolkit), audit_refusals(toolkit)
        self.plugin.arm(point, fail_when_told=fail_when_told)
        try:
            operation(toolkit)
        except InjectedFault as error:
            if "injected fault at" not in str(error):
                self.failures.append(f"{label} @ {point}: the caller got {error}")
        except Exception as error:
            self.failures.append(f"{label} @ {point}: {type(error).__name__}: {error}")
        else:
            self.failures.append(f"{label} @ {point}: no error reached the caller")
        fired = self.plugin.fired
        told_times = self.plugin.calls.get(("write_failed", None), 0)
        self.plugin.arm(None)
        if fired != [point]:
            self.failures.append(f"{label} @ {point}: the fault fired {fired}, not once")
        if told_times != (1 if told else 0):
            self.failures.append(f"{label} @ {point}: write_failed called {told_times} time(s)")
        changed = changed_tables(before, table_checksums(toolkit.engine, skip=[AUDIT]))
        if changed:
            self.failures.append(f"{label} @ {point}: tables changed: {changed}")
        if audit_digest(toolkit) != audit_before:
            self.failures.append(f"{label} @ {point}: the audit log was rewritten")
        grown = audit_refusals(toolkit) - refusals_before
        expected = 1 if told and self.audited else 0
        if grown != expected:
            self.failures.append(f"{label} @ {point}: {grown} refusal(s) audited, not {expected}")

    @property
    def audited(self) -> bool:
        return "privacy" in {info.name for info in self.toolkit.plugins}

    def expect_success(self, label: str, operation: Operation) -> None:
        """Without a fault the same operation writes: the checks above are not vacuous."""
        before = table_checksums(self.toolkit.engine, skip=[AUDIT])
        operation(self.toolkit)
        assert changed_tables(before, table_checksums(self.toolkit.engine, skip=[AUDIT])), label


@pytest.fixture(params=["core", "first-party"])
def harness(request: pytest.FixtureRequest, make_toolkit: Any) -> Harness:
    enabled = ["faulty"] if request.param == "core" else [*FIRST_PARTY, "faulty"]
    toolkit: Toolkit = make_toolkit(
        plugins={"faulty": FaultyPlugin}, enabled=enabled, config={"import": {"batch_size": 3}}
    )
    toolkit.write(BASE)
    return Harness(toolkit)


def batch_records(harness: Harness) -> list[Record]:
    extra = FIRST_PARTY_BATCH if harness.audited else []
    return [*BATCH, *extra]


def test_a_fault_in_a_single_write_leaves_every_table_unchanged(harness: Harness) -> None:
    for label, operation, points in single_operations():
        for point in points:
            harness.expect_rollback(label, operation, point, told=point.hook != "erase_subject")
    assert harness.failures == []
    record_cases("fault injection: single writes", harness.tried, harness.tried)
    for label, operation, _ in single_operations():
        harness.expect_success(label, operation)


def test_a_fault_in_a_batch_write_leaves_every_table_unchanged(harness: Harness) -> None:
    records = batch_records(harness)

    def write(toolkit: Toolkit) -> object:
        return toolkit.write(records)

    for point in batch_points():
        harness.expect_rollback("write", write, point)
    assert harness.failures == []
    record_cases("fault injection: batch writes", harness.tried, harness.tried)
    harness.expect_success("write", write)


def test_a_fault_during_import_leaves_every_table_unchanged(
    harness: Harness, tmp_path: Path
) -> None:
    path = tmp_path / "batch.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in batch_records(harness)))

    def run_import(toolkit: Toolkit) -> object:
        return toolkit.import_jsonl(path)

    for point in batch_points():
        harness.expect_rollback("import", run_import, point)
    assert harness.failures == []
    record_cases("fault injection: imports", harness.tried, harness.tried)
    harness.expect_success("import", run_import)


def test_a_failing_failure_hook_changes_nothing_more(harness: Harness) -> None:
    records = batch_records(harness)
    for phase in BATCH_PHASES:
        harness.expect_rollback(
            "write (write_failed raises too)",
            lambda toolkit: toolkit.write(records),
            FaultPoint("after_write", phase, 2),
            fail_when_told=True,
        )
    assert harness.failures == []
    record_cases("fault injection: failing write_failed", harness.tried, harness.tried)
