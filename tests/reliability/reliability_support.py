"""Shared pieces of the reliability suite: the budget, table digests, a faulty plugin.

The budget (``PARTYGRAPH_RELIABILITY_BUDGET=small|large``, small by default)
sets how many cases the fuzzers, property tests and crash loops try: small in
CI, large for a thorough local run (docs/reliability.md has the figures).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir

from partygraph import (
    InteractionType,
    RecordType,
    RelationshipType,
    WriteBatch,
    WriteSession,
    hookimpl,
)
from partygraph.storage.tables import party_table

BUDGET_VARIABLE = "PARTYGRAPH_RELIABILITY_BUDGET"


@attrs.frozen
class Budget:
    """How many cases each loop of the suite tries."""

    name: str
    examples: int  # hypothesis examples per property test
    fuzz_cases: int  # generated bad inputs per fuzz test
    crash_kills: int  # SIGKILLed imports
    crash_records: int  # records in the file the crash test imports
    writers: int  # writes per concurrent writer


BUDGETS = {
    "small": Budget("small", examples=15, fuzz_cases=120, crash_kills=3, crash_records=3000,
                    writers=12),
    "large": Budget("large", examples=150, fuzz_cases=3000, crash_kills=25, crash_records=20000,
                    writers=60),
}  # fmt: skip


def budget() -> Budget:
    """The budget named by the environment (small unless it says large)."""
    name = os.environ.get(BUDGET_VARIABLE, "small")
    if name not in BUDGETS:
        raise ValueError(f"{BUDGET_VARIABLE} must be one of {sorted(BUDGETS)}, got {name!r}")
    return BUDGETS[name]


BUDGET = budget()

# Hypothesis keeps caches (unicode tables, constants) out of the work tree.
set_hypothesis_home_dir(str(Path(tempfile.gettempdir()) / "partygraph-hypothesis"))

# Hypothesis profiles: "ci" (small) and "thorough" (large); applied per test with
# ``@settings(PROFILE)`` so that they never change other tests' settings.
settings.register_profile(
    "ci",
    max_examples=BUDGETS["small"].examples,
    deadline=None,
    database=None,  # no .hypothesis folder in the work tree
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "thorough",
    max_examples=BUDGETS["large"].examples,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
PROFILE = settings.get_profile("thorough" if BUDGET.name == "large" else "ci")


# -- digests of every row ---------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date | Decimal):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)  # JSON columns read back as text on SQLite
        except ValueError:
            return value
    return value


def table_rows(connection: sa.Connection, name: str) -> list[str]:
    """Every row of a table as canonical JSON text, sorted."""
    rows = connection.exec_driver_sql(f'SELECT * FROM "{name}"').all()
    return sorted(
        json.dumps([_plain(value) for value in row], sort_keys=True, default=str) for row in rows
    )


def changed_tables(before: Mapping[str, str], after: Mapping[str, str]) -> list[str]:
    """Names of the tables whose rows differ (or that appeared or vanished)."""
    return sorted(name for name in {*before, *after} if before.get(name) != after.get(name))


# -- a plugin that fails where it is told to --------------------------------------------------


class InjectedFault(RuntimeError):
    """The error the faulty plugin raises."""


@attrs.frozen
class FaultPoint:
    """Where to fail: a hook (and the phase of the batch), on its n-th call there."""

    hook: str
    phase: str | None = None
    call: int = 1

    def __str__(self) -> str:
        phase = f"[{self.phase}]" if self.phase else ""
        return f"{self.hook}{phase}#{self.call}"


class FaultyPlugin:
    """Raises :class:`InjectedFault` at ``self.target``; otherwise writes a little.

    It brings a vocabulary of its own (relationship type ``knows``, interaction
    type ``call``, record type ``tag``), so that every write-path hook point is
    reached with or without the first-party plugins: ``before_write`` and
    ``after_write`` for each phase, a record type's ``apply``, ``erase_subject``
    and ``write_failed``. Before failing, ``after_write`` and ``apply`` write
    rows of their own (a party's name), so a fault always has something to undo.
    """

    def __init__(self) -> None:
        self.target: FaultPoint | None = None
        self.fail_when_told = False
        self.calls: dict[tuple[str, str | None], int] = {}
        self.fired: list[FaultPoint] = []

    def arm(self, target: FaultPoint | None, *, fail_when_told: bool = False) -> None:
        """Fail at *target* from now on (None: never); the call counts restart.

        With *fail_when_told*, ``partygraph_write_failed`` raises as well.
        """
        self.target = target
        self.fail_when_told = fail_when_told
        self.calls = {}
        self.fired = []

    def _reach(self, hook: str, phase: str | None) -> None:
        count = self.calls[(hook, phase)] = self.calls.get((hook, phase), 0) + 1
        target = self.target
        if target and (target.hook, target.phase, target.call) == (hook, phase, count):
            self.fired.append(target)
            raise InjectedFault(f"injected fault at {target}")

    @hookimpl
    def partygraph_relationship_types(self) -> list[RelationshipType]:
        return [RelationshipType("knows", label="knows", symmetric=True)]

    @hookimpl
    def partygraph_interaction_types(self) -> list[InteractionType]:
        return [InteractionType("call", purposes=("service",))]

    @hookimpl
    def partygraph_record_types(self) -> list[RecordType]:
        schema = {
            "type": "object",
            "properties": {"party": {"type": "string"}, "tag": {"type": "string"}},
            "required": ["party", "tag"],
            "additionalProperties": False,
        }
        return [RecordType("tag", schema, self._apply_tags, purposes=("service",))]

    def _apply_tags(self, bodies: Sequence[Mapping[str, Any]], session: WriteSession) -> None:
        for body in bodies:
            session.connection.execute(
                sa.update(party_table)
                .where(party_table.c.key == body["party"])
                .values(name=f"tagged {body['tag']}")
            )
        self._reach("apply", "tag")

    @hookimpl
    def partygraph_before_write(self, batch: WriteBatch, session: WriteSession) -> None:
        self._reach("before_write", batch.phase)

    @hookimpl
    def partygraph_after_write(self, batch: WriteBatch, session: WriteSession) -> None:
        for party in batch.parties[:1]:
            session.connection.execute(
                sa.update(party_table)
                .where(party_table.c.id == party.id)
                .values(name=f"{party.name or ''} (seen)")
            )
        self._reach("after_write", batch.phase)

    @hookimpl
    def partygraph_erase_subject(self, party: Any, session: WriteSession) -> None:
        session.connection.execute(
            sa.update(party_table).where(party_table.c.id == party.id).values(name="erasing")
        )
        self._reach("erase_subject", None)

    @hookimpl
    def partygraph_write_failed(self, error: BaseException, context: Any) -> None:
        self.calls[("write_failed", None)] = self.calls.get(("write_failed", None), 0) + 1
        if self.fail_when_told:
            raise InjectedFault("injected fault while being told of a failed write")


# -- figures for docs/reliability.md -------------------------------------------------------

REPORT_VARIABLE = "PARTYGRAPH_RELIABILITY_REPORT"


def record_cases(check: str, tried: int, passed: int) -> None:
    """Append how many cases a check tried and passed to the report file, if one is named.

    ``PARTYGRAPH_RELIABILITY_REPORT=FILE`` collects the figures that
    docs/reliability.md quotes; without it nothing is written.
    """
    path = os.environ.get(REPORT_VARIABLE)
    if not path:
        return
    backend = "postgresql" if os.environ.get("PARTYGRAPH_TEST_DATABASE_URL") else "sqlite"
    line = {"check": check, "backend": backend, "budget": BUDGET.name, "tried": tried}
    line["passed"] = passed
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(line) + "\n")
