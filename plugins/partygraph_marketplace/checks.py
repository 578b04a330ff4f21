"""Checks the schemas cannot express, per batch of interactions, before the core writes them.

A transaction needs exactly one demand-side participant and at most one
supply-side one (exactly one once completed), never the same party on both
sides, ordered times, ratings only from sides that took part, and every
participant an *active* member of its side when it happened. A support
ticket and an incentive payout name exactly one member of a side, who must
have joined that side by then. Memberships are read once per write (the
session cache keeps them across batches; a batch of side_of changes refreshes them).

A problem is a :class:`partygraph.ValidationError` naming the field; nothing
of the write is kept. With ``skip_invalid`` the offending records are refused
one by one (reported on their lines) and the rest written.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from partygraph import Interaction, Participant, ValidationError, WriteBatch, WriteSession
from partygraph.times import parse_time
from partygraph_marketplace.membership import Stage, load_stages, party_names, stage_at
from partygraph_marketplace.settings import Settings
from partygraph_marketplace.vocab import INCENTIVE_PAYOUT, SUPPORT_TICKET

__all__ = ["CACHE_KEY", "check_interactions", "forget_memberships", "iso"]

#: This plugin's entry in ``WriteSession.cache``.
CACHE_KEY = "marketplace.memberships"

Problem = tuple[Interaction, str, str]


def iso(at: datetime | None) -> str:
    """A time as ISO 8601 UTC (``2026-03-01T10:00:00Z``), a date when at midnight."""
    if at is None:
        return "the start"
    text = at.isoformat().replace("+00:00", "Z")
    return text[:10] if text.endswith("T00:00:00Z") else text


class _Checker:
    def __init__(
        self,
        settings: Settings,
        stages: Mapping[tuple[int, str], list[Stage]],
        keys: Mapping[int, str],
    ) -> None:
        self.settings = settings
        self.stages = stages
        self.keys = keys
        self.sides = {side.name: side for side in settings.sides}
        self.positions = {side.name: side.position for side in settings.sides}
        self.demand_names = " or ".join(s.name for s in settings.positioned("demand"))
        self.supply_names = " or ".join(s.name for s in settings.positioned("supply"))
        self.statuses = settings.transaction.needs_supply

    def key(self, party: int | str) -> str:
        return self.keys.get(int(party), str(party))

    # -- membership ------------------------------------------------------------------------

    def _active(self, index: int, participant: Participant, at: datetime) -> tuple[str, str] | None:
        party = int(participant.party)
        side = participant.role
        stages = self.stages.get((party, side), [])
        if stages:
            stage = stage_at(stages, at)
            if stage is not None and stage.status == "active":
                return None  # the usual case: nothing to say, nothing to format
        field = f"participants/{index}/party"
        who = f"{self.key(party)!r} is not an active {side} at {iso(at)}"
        if not stages:
            return field, (
                f"{who}: it has no side_of membership with role {side!r} "
                "(record the membership, with its status, first)"
            )
        stage = stage_at(stages, at)
        if stage is None:
            first = stages[0]
            if first.start is not None and at < first.start:
                return field, f"{who}: its membership starts on {iso(first.start)} " + (
                    f"(relationship #{first.id})"
                )
            last = stages[-1]
            return (
                field,
                f"{who}: its membership ended on {iso(last.end)} (relationship #{last.id})",
            )
        if stage.status != "active":
            why = f": {stage.reason}" if stage.reason else ""
            return field, (
                f"{who}: its status is {stage.status!r} since {iso(stage.start)} "
                f"(relationship #{stage.id}{why})"
            )
        return None

    def _joined(self, index: int, participant: Participant, at: datetime) -> tuple[str, str] | None:
        party = int(participant.party)
        side = participant.role
        stages = self.stages.get((party, side), [])
        if any(stage.start is None or stage.start <= at for stage in stages):
            return None
        return f"participants/{index}/party", (
            f"{self.key(party)!r} has not joined the {side} side by {iso(at)} "
            f"(no side_of membership with role {side!r} starting by then)"
        )

    # -- per type -----------------------------------------------------------------------------

    def transaction(self, item: Interaction) -> tuple[str, str] | None:
        noun = self.settings.transaction.noun
        payload = item.payload
        status = payload.get("status") or "completed"
        demand: list[tuple[int, Participant]] = []
        supply: list[tuple[int, Participant]] = []
        for index, participant in enumerate(item.participants):
            position = self.positions.get(participant.role)
            if position == "demand":
                demand.append((index, participant))
            elif position == "supply":
                supply.append((index, participant))
        demand_names, supply_names = self.demand_names, self.supply_names
        if len(demand) != 1:
            return "participants", (
                f"a {noun} has exactly one demand-side participant ({demand_names}), "
                f"got {len(demand)}"
            )
        if len(supply) > 1:
            return "participants", (
                f"a {noun} has at most one supply-side participant ({supply_names}), "
                f"got {len(supply)}"
            )
        if status in self.statuses and not supply:
            return "participants", f"a {status} {noun} needs a {supply_names}"
        if status == "unfulfilled" and supply:
            return "participants", f"an unfulfilled {noun} has no {supply_names}"
        if supply and int(supply[0][1].party) == int(demand[0][1].party):
            index, participant = supply[0]
            return f"participants/{index}/party", (
                f"{self.key(participant.party)!r} is already the {demand[0][1].role} of this "
                f"{noun}; one party cannot be on both sides of one {noun}"
            )
        if "requested_at" in payload or "started_at" in payload or "ended_at" in payload:
            problem = self._times(item)
            if problem is not None:
                return problem
        ratings = payload.get("ratings")
        if ratings:
            present = {p.role for p in item.participants}
            for side in ratings:
                if side not in present:
                    return f"payload/ratings/{side}", f"no {side} took part in this {noun}"
        for index, participant in (*demand, *supply):
            problem = self._active(index, participant, item.occurred_at)
            if problem is not None:
                return problem
        return None

    def _times(self, item: Interaction) -> tuple[str, str] | None:
        names = ("requested_at", "started_at", "ended_at")
        times: list[tuple[str, datetime]] = []
        for name in names:
            value = item.payload.get(name)
            if value is not None:
                try:
                    times.append((name, parse_time(value, name)))
                except ValueError as error:
                    return f"payload/{name}", str(error)
        for (earlier, first), (later, second) in itertools.pairwise(times):
            if second < first:
                return f"payload/{later}", (
                    f"{iso(second)} is before {earlier} {iso(first)}; "
                    "a trip is requested, then started, then ended"
                )
        return None

    def check(self, item: Interaction) -> tuple[str, str] | None:
        """The first problem of one of the marketplace's interactions, or None."""
        if item.type == self.settings.transaction.name:
            return self.transaction(item)
        if item.type == SUPPORT_TICKET:
            return self.one_member(item, "a support ticket")
        return self.one_member(item, "an incentive payout")

    def one_member(self, item: Interaction, what: str) -> tuple[str, str] | None:
        members = [(i, p) for i, p in enumerate(item.participants) if p.role in self.sides]
        if len(members) != 1:
            names = ", ".join(self.settings.side_names)
            return "participants", (
                f"{what} names exactly one member of a side, in the role of its side "
                f"({names}), got {len(members)}"
            )
        index, participant = members[0]
        return self._joined(index, participant, item.occurred_at)


def check_interactions(settings: Settings, batch: WriteBatch, session: WriteSession) -> None:
    """Check one batch of interactions; raise (or refuse items) on the first problems."""
    transaction = settings.transaction.name
    ours = (transaction, SUPPORT_TICKET, INCENTIVE_PAYOUT)
    # Items another plugin (a privacy gate) already refused or withheld are its to report.
    items = [
        item for item in batch.interactions if item.type in ours and not batch.is_settled(item)
    ]
    if not items:
        return
    sides = settings.side_names
    ids = {int(p.party) for item in items for p in item.participants if p.role in sides}
    connection = session.connection
    checker = _Checker(settings, _memberships(session, ids, sides), {})
    wrong = [item for item in items if checker.check(item) is not None]
    if not wrong:
        return
    # Name the parties by key in the messages (one more query, only when something is wrong).
    named = {int(p.party) for item in wrong for p in item.participants}
    checker.keys = {party_id: key for party_id, (key, _) in party_names(connection, named).items()}
    problems = [(item, *found) for item in wrong if (found := checker.check(item)) is not None]
    _report(batch, session, problems)


def _memberships(
    session: WriteSession, ids: set[int], sides: Sequence[str]
) -> dict[tuple[int, str], list[Stage]]:
    """The stages of these parties, read once per write (the session's cache keeps them
    across batches; :func:`forget_memberships` drops those a batch of side_of changes)."""
    cache = session.cache.setdefault(CACHE_KEY, {"known": set(), "stages": {}})
    known: set[int] = cache["known"]
    stages: dict[tuple[int, str], list[Stage]] = cache["stages"]
    missing = ids - known
    if missing:
        stages.update(load_stages(session.connection, missing, sides))
        known.update(missing)
    return stages


def forget_memberships(
    session: WriteSession, party_ids: Iterable[int], sides: Sequence[str]
) -> None:
    """A batch of side_of relationships was written: read these parties' stages again."""
    cache = session.cache.get(CACHE_KEY)
    if cache is None:
        return
    for party_id in party_ids:
        cache["known"].discard(party_id)
        for side in sides:
            cache["stages"].pop((party_id, side), None)


def _report(batch: WriteBatch, session: WriteSession, problems: Sequence[Problem]) -> None:
    if session.skip_invalid:
        for item, field, reason in problems:
            batch.refuse(item, f"{field}: {reason}")
        return
    item, field, reason = problems[0]
    line = batch.line_of(item)
    where = f" (record {line})" if line > 1 or len(batch.interactions) > 1 else ""
    more = len(problems) - 1
    tail = f"; and {more} more invalid record(s) in this write" if more else ""
    raise ValidationError(field, f"{reason}{where}{tail}", item.payload)
