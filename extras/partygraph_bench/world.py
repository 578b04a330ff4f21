"""The synthetic world: seeded, deterministic records in the interchange format.

One shape, scaled: persons, organisations with buying committees (b2b),
households of three (household), a ride-sharing platform with drivers and
riders (marketplace), departments of one company with employees (internal),
marketing consents (privacy), and a stream of interactions mixing purchases
(b2c), trips, meetings, e-mails and service requests. The same seed and scale
give the same records, so every run and every database measures the same data.

The structure (parties, relationships, consents) and the interactions are
separate streams: ingest measurements write a prefix of the interactions into
copies of a database that holds the structure only.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import attrs

from partygraph_bench.scales import Scale

__all__ = [
    "AS_OF",
    "COMMITTEE_ROLES",
    "ZONES",
    "Plan",
    "bench_config",
    "interaction_records",
    "structure_records",
    "subject_key",
    "subject_records",
]

Record = dict[str, Any]

#: The day the analytics are computed for (every interaction is before it).
AS_OF = "2026-11-01"
_START = datetime(2025, 1, 1, tzinfo=UTC)
_SPAN_MINUTES = int((datetime(2026, 10, 31, tzinfo=UTC) - _START).total_seconds() // 60)
ZONES = tuple(f"zone-{n:02d}" for n in range(24))
COMMITTEE_ROLES = (
    "economic_buyer", "technical_evaluator", "end_user", "champion",
    "end_user", "decision_maker", "procurement", "influencer",
)  # fmt: skip
_CATEGORIES = ("shoes", "toys", "books", "garden", "kitchen", "sport")
_PRICES = (4.99, 9.5, 19.99, 35.25, 80.0, 129.0)
_REQUESTS = ("access", "hardware", "incident", "information", "general")
#: Interaction types by position in a cycle of 20: 9 purchases, 8 trips, a meeting,
#: an e-mail and a service request.
_CYCLE = ("purchase",) * 9 + ("trip",) * 8 + ("meeting", "email", "service_request")


@attrs.frozen
class Plan:
    """How many of each thing a scale's world holds (what the seed promises)."""

    accounts: int
    households: int
    departments: int
    employees: int
    drivers: int
    riders: int
    interactions: int
    subjects: int
    seed: int

    @classmethod
    def for_scale(cls, scale: Scale, *, subjects: int = 3, seed: int = 11) -> Plan:
        """The plan of *scale*'s world, with *subjects* erasure subjects."""
        f = scale.factor
        return cls(
            accounts=max(2, round(2_000 * f)),
            households=max(3, round(15_000 * f)),
            departments=max(5, round(20 * f)),
            employees=max(10, round(2_000 * f)),
            drivers=max(5, round(5_000 * f)),
            riders=max(10, round(28_000 * f)),
            interactions=max(100, round(1_000_000 * f)),
            subjects=subjects,
            seed=seed,
        )

    @property
    def committee_size(self) -> int:
        """Stakeholders per account."""
        return len(COMMITTEE_ROLES)

    @property
    def structure_parties(self) -> int:
        """Parties in the structure, subjects left out."""
        return (
            self.accounts * (1 + self.committee_size)
            + self.households * 4
            + self.departments
            + self.employees
            + self.drivers
            + self.riders
            + 2  # the company and the platform
        )

    @property
    def parties(self) -> int:
        """Parties once the subjects are written (each with a household of their own)."""
        return self.structure_parties + 2 * self.subjects

    @property
    def subject_interactions(self) -> int:
        """Interactions each subject takes part in."""
        return 6

    @property
    def total_interactions(self) -> int:
        """Interactions once the subjects are written."""
        return self.interactions + self.subjects * self.subject_interactions


def bench_config(url: str, enabled: list[str] | None = None) -> dict[str, Any]:
    """The toolkit config the benchmark opens: every first-party plugin by default."""
    plugins: dict[str, Any] = {
        "marketplace": {
            "zones": list(ZONES),
            "incentives": [
                {"name": "weekly-quest", "min_trips": 5, "min_average_rating": 4.5, "bonus": 50},
                {"name": "monthly-pro", "period": "month", "min_trips": 20, "bonus": 200},
            ],
        },
    }
    if enabled is not None:
        plugins = {"enabled": enabled}
    return {"database": {"url": url}, "plugins": plugins}


def _party(key: str, kind: str, name: str, **attributes: Any) -> Record:
    body: Record = {"key": key, "kind": kind, "name": name}
    if attributes:
        body["attributes"] = attributes
    return {"party": body}


def _relation(
    type_: str, source: str, target: str, role: str | None, since: str, **attributes: Any
) -> Record:
    body: Record = {"type": type_, "source": source, "target": target, "valid_from": since}
    if role is not None:
        body["role"] = role
    if attributes:
        body["attributes"] = attributes
    return {"relationship": body}


def structure_records(plan: Plan, *, privacy: bool = True) -> Iterator[Record]:
    """Parties, relationships and (with *privacy*) consents: the world minus interactions."""
    rng = random.Random(plan.seed)
    yield _party("our-company", "organization", "Our Company", domain="our.example")
    for d in range(plan.departments):
        yield _party(f"dept-{d}", "department", f"Department {d}", function=("it", "hr")[d % 2])
        yield _relation("serves", f"dept-{d}", "our-company", None, "2020-01-01")
    for e in range(plan.employees):
        yield _party(f"emp-{e}", "person", f"Employee {e}", email=f"emp-{e}@our.example")
        yield _relation(
            "employed_in", f"emp-{e}", f"dept-{e % plan.departments}", "employee", "2021-01-01"
        )
    for a in range(plan.accounts):
        account = f"acct-{a}"
        yield _party(account, "organization", f"Account {a}", industry="retail")
        for s, role in enumerate(COMMITTEE_ROLES):
            person = f"cm-{a}-{s}"
            yield _party(person, "person", f"Stakeholder {a}/{s}", email=f"{person}@acct.example")
            yield _relation("stakeholder_of", person, account, role, "2025-01-01")
    for h in range(plan.households):
        home = f"hh-{h}"
        yield _party(home, "household", f"Household {h}")
        born = 1965 + rng.randrange(30)
        yield _party(f"hm-{h}-0", "person", f"Head {h}", birth_date=f"{born}-03-0{1 + h % 9}")
        yield _party(f"hm-{h}-1", "person", f"Partner {h}", birth_date=f"{born + 2}-07-12")
        yield _party(f"hm-{h}-2", "person", f"Child {h}", birth_date=f"{2012 + h % 8}-01-20")
        for m, role in enumerate(("head", "partner", "dependent")):
            yield _relation("member_of", f"hm-{h}-{m}", home, role, "2020-01-01")
    yield _party("rideco", "platform", "RideCo")
    for n in range(plan.drivers):
        yield _party(f"drv-{n}", "person", f"Driver {n}")
        yield _relation("side_of", f"drv-{n}", "rideco", "driver", "2024-06-01", status="active")
    for n in range(plan.riders):
        yield _party(f"rdr-{n}", "person", f"Rider {n}")
        yield _relation("side_of", f"rdr-{n}", "rideco", "rider", "2024-06-01", status="active")
    if privacy:
        for n in range(0, plan.riders, 10):
            yield {"consent": {"party": f"rdr-{n}", "purpose": "marketing",
                               "granted_at": "2024-06-01T00:00:00Z"}}  # fmt: skip
        for h in range(0, plan.households, 5):
            yield {"consent": {"party": f"hm-{h}-0", "purpose": "household_aggregation",
                               "granted_at": "2023-01-01T00:00:00Z"}}  # fmt: skip


def _buyer(plan: Plan, rng: random.Random) -> tuple[str, str | None]:
    """A purchaser (a household adult or a rider) and sometimes a consumer."""
    pick = rng.randrange(plan.households * 2 + plan.riders)
    if pick < plan.households * 2:
        h, m = divmod(pick, 2)
        partner = f"hm-{h}-{1 - m}" if rng.random() < 0.2 else None
        return f"hm-{h}-{m}", partner
    return f"rdr-{pick - plan.households * 2}", None


def _interaction(kind: str, at: datetime, people: list[tuple[str, str]], payload: Record) -> Record:
    return {
        "interaction": {
            "type": kind,
            "occurred_at": at.isoformat(),
            "participants": [{"party": key, "role": role} for key, role in people],
            "payload": payload,
        }
    }


def interaction_records(plan: Plan, limit: int | None = None) -> Iterator[Record]:
    """The world's interactions (the first *limit* of them): every type, mixed throughout."""
    rng = random.Random(plan.seed + 1)
    count = plan.interactions if limit is None else min(limit, plan.interactions)
    for i in range(count):
        kind = _CYCLE[i % len(_CYCLE)]
        at = _START + timedelta(minutes=rng.randrange(_SPAN_MINUTES))
        if kind == "purchase":
            buyer, consumer = _buyer(plan, rng)
            people = [(buyer, "purchaser")] + ([(consumer, "consumer")] if consumer else [])
            lines = [
                {"sku": f"S{rng.randrange(300)}", "category": rng.choice(_CATEGORIES),
                 "quantity": rng.randint(1, 3), "unit_price": rng.choice(_PRICES)}
                for _ in range(rng.randint(1, 3))
            ]  # fmt: skip
            yield _interaction(kind, at, people, {"order_id": f"O{i}", "lines": lines})
        elif kind == "trip":
            people = [
                (f"rdr-{rng.randrange(plan.riders)}", "rider"),
                (f"drv-{rng.randrange(plan.drivers)}", "driver"),
            ]
            payload = {
                "fare": round(rng.uniform(5, 60), 2),
                "pickup_zone": rng.choice(ZONES),
                "dropoff_zone": rng.choice(ZONES),
                "ratings": {"rider": rng.choice((4, 5, 5)), "driver": 5},
            }
            yield _interaction(kind, at, people, payload)
        elif kind in ("meeting", "email"):
            a = rng.randrange(plan.accounts)
            members = rng.sample(range(plan.committee_size), rng.randint(1, 3))
            role = "attendee" if kind == "meeting" else "recipient"
            people = [(f"cm-{a}-{s}", role) for s in members] + [(f"acct-{a}", "account")]
            payload = {"topic": "quarterly review"} if kind == "meeting" else {"subject": "hi"}
            yield _interaction(kind, at, people, payload)
        else:
            requester = f"emp-{rng.randrange(plan.employees)}"
            provider = f"dept-{rng.randrange(plan.departments)}"
            resolved = at + timedelta(hours=rng.choice((1, 3, 6, 30, 80)))
            payload = {
                "category": rng.choice(_REQUESTS),
                "resolved_at": resolved.isoformat(),
                "satisfaction": rng.randint(1, 5),
            }
            yield _interaction(
                kind, at, [(requester, "requester"), (provider, "provider")], payload
            )


def subject_key(index: int) -> str:
    """The key of erasure subject *index* (no key is a prefix of another)."""
    return f"subj{index:04d}z"


def subject_records(index: int) -> list[Record]:
    """A person present in every plugin's data: buyer, stakeholder, head of a household,
    employee, rider, with consents -- the data-subject request's subject.

    Nothing identifying is shared between subjects (not even the birth date), so
    the completeness scan after one erasure does not find the next subject.
    """
    key = subject_key(index)
    home = f"home-s{index:04d}"
    at = datetime(2026, 9, 1, 9, tzinfo=UTC) + timedelta(days=index)
    line = {"sku": "S1", "category": "books", "quantity": 1, "unit_price": 19.99}
    trip = {"fare": 12.5, "pickup_zone": ZONES[0], "dropoff_zone": ZONES[1]}
    request = {"category": "access", "resolved_at": (at + timedelta(hours=2)).isoformat()}
    return [
        _party(key, "person", f"Zq Subject {index:04d}", email=f"{key}@example.net",
               birth_date=(date(1985, 5, 4) + timedelta(days=index)).isoformat()),
        _party(home, "household", f"Home S{index:04d}"),
        _relation("member_of", key, home, "head", "2022-01-01"),
        _relation("stakeholder_of", key, "acct-0", "influencer", "2025-02-01"),
        _relation("employed_in", key, "dept-0", "employee", "2023-01-01"),
        _relation("side_of", key, "rideco", "rider", "2025-01-01", status="active"),
        {"consent": {"party": key, "purpose": "marketing", "granted_at": "2025-01-01T00:00:00Z"}},
        {"consent": {"party": key, "purpose": "household_aggregation",
                     "granted_at": "2025-01-01T00:00:00Z"}},
        _interaction("purchase", at, [(key, "purchaser")], {"order_id": f"Z{index}-1",
                                                            "lines": [line]}),
        _interaction("purchase", at + timedelta(days=1), [(key, "purchaser")],
                     {"order_id": f"Z{index}-2", "lines": [line]}),
        _interaction("trip", at, [(key, "rider"), ("drv-0", "driver")], trip),
        _interaction("trip", at + timedelta(hours=5), [(key, "rider"), ("drv-1", "driver")], trip),
        _interaction("meeting", at, [(key, "attendee"), ("acct-0", "account")],
                     {"topic": "renewal"}),
        _interaction("service_request", at, [(key, "requester"), ("dept-0", "provider")], request),
    ]  # fmt: skip
