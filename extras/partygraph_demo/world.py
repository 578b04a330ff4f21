"""The demo world as interchange records, built by code with fixed dates.

Every scenario of the source documents is one function returning JSON Lines
records (``{"party": {...}}``, ``{"relationship": {...}}`` ...). Nothing here
depends on the clock or on chance: the same records come out on every run, so
the database ids, the roles' reasons and the tour are the same too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

__all__ = [
    "AS_OF",
    "Record",
    "app_store",
    "bank_household",
    "erp_deal",
    "family_groceries",
    "internal_departments",
    "ride_sharing_city",
    "world_records",
]

Record = dict[str, Any]

#: The moment the tour describes: the world's story runs up to the end of June 2026.
AS_OF = "2026-07-01"


# -- record builders ---------------------------------------------------------------------


def party(key: str, kind: str, name: str, **attributes: Any) -> Record:
    """A party record."""
    body: Record = {"key": key, "kind": kind, "name": name}
    if attributes:
        body["attributes"] = attributes
    return {"party": body}


def relation(
    type_: str,
    source: str,
    target: str,
    since: str,
    role: str | None = None,
    **attributes: Any,
) -> Record:
    """A relationship record valid from *since*."""
    body: Record = {"type": type_, "source": source, "target": target, "valid_from": since}
    if role is not None:
        body["role"] = role
    if attributes:
        body["attributes"] = attributes
    return {"relationship": body}


def interaction(
    type_: str,
    at: str,
    participants: Sequence[tuple[str, str]],
    payload: Mapping[str, Any],
    key: str | None = None,
) -> Record:
    """An interaction record; *participants* are (party key, role) pairs."""
    body: Record = {
        "type": type_,
        "occurred_at": at,
        "participants": [{"party": who, "role": role} for who, role in participants],
        "payload": dict(payload),
    }
    if key is not None:
        body["key"] = key
    return {"interaction": body}


def purchase(
    buyer: str,
    at: str,
    order: str,
    lines: Sequence[tuple[str, str, int, float]],
    consumers: Sequence[str] = (),
    **extra: Any,
) -> Record:
    """A b2c purchase; *lines* are (sku, category, quantity, unit price)."""
    payload = {
        "order_id": order,
        "currency": "EUR",
        "lines": [
            {"sku": sku, "category": category, "quantity": quantity, "unit_price": price}
            for sku, category, quantity, price in lines
        ],
        **extra,
    }
    people = [(buyer, "purchaser"), *((who, "consumer") for who in consumers)]
    return interaction("purchase", at, people, payload, key=f"order:{order}")


def stage(who: str, platform: str, side: str, status: str, since: str) -> Record:
    """One stage of a marketplace side membership."""
    return relation("side_of", who, platform, since, side, status=status)


# -- the scenarios -------------------------------------------------------------------------


def family_groceries() -> list[Record]:
    """The Martins shop for groceries: Sophie pays, Marc and the children consume.

    Sophie buys every other Saturday; coffee is for Marc, snacks for Léa and Hugo.
    Nobody but Sophie ever pays, yet the others decide part of the basket.
    """
    records = [
        party("martin-home", "household", "Martin household",
              address="8 Rue Oberkampf, 75011 Paris"),
        party("sophie", "person", "Sophie Martin", birth_date="1984-03-12",
              email="sophie.martin@example.org"),
        party("marc", "person", "Marc Martin", birth_date="1982-09-30"),
        party("lea", "person", "Léa Martin", birth_date="2012-04-18"),
        party("hugo", "person", "Hugo Martin", birth_date="2017-01-05"),
        relation("member_of", "sophie", "martin-home", "2014-06-01", "head", relation="parent"),
        relation("member_of", "marc", "martin-home", "2014-06-01", "partner", relation="spouse"),
        relation("member_of", "lea", "martin-home", "2014-06-01", "dependent", relation="child"),
        relation("member_of", "hugo", "martin-home", "2017-01-05", "dependent", relation="child"),
    ]  # fmt: skip
    start = date(2026, 1, 3)
    for number in range(13):
        day = start + timedelta(days=14 * number)
        lines: list[tuple[str, str, int, float]] = [
            ("VEG-BOX", "groceries", 1, round(38.0 + 1.5 * number, 2)),
            ("MILK-6", "groceries", 1, 7.2),
        ]
        consumers: list[str] = []
        if number % 2 == 0:
            lines.append(("SNACK-KIDS", "snacks", 2, 4.5))
            consumers += ["lea", "hugo"]
        if number % 3 == 0:
            lines.append(("COFFEE-1KG", "coffee", 1, 16.9))
            consumers.append("marc")
        records.append(
            purchase(
                "sophie",
                f"{day.isoformat()}T09:30:00Z",
                f"G-{number + 1:02d}",
                lines,
                consumers,
                store="FreshMart Oberkampf",
                channel="store",
            )
        )
    return records


def erp_deal() -> list[Record]:
    """Acme buys an ERP: a CFO who signs, accountants who use it, IT, an outside consultant.

    Globex, the next target, has a single contact engaged: a single-threaded risk.
    """
    acme = ("acme", "account")
    return [
        party("acme", "organization", "Acme Manufacturing", industry="manufacturing",
              employees=1200),
        party("ledger-partners", "organization", "Ledger Partners", industry="consulting"),
        party("globex", "organization", "Globex Retail", industry="retail", employees=300),
        party("carla", "person", "Carla Diaz", email="carla@acme.example"),
        party("ann", "person", "Ann Berg", email="ann@acme.example"),
        party("tom", "person", "Tom Weber", email="tom@acme.example"),
        party("ivan", "person", "Ivan Petrov", email="ivan@acme.example"),
        party("cora", "person", "Cora Lindqvist", email="cora@ledger.example"),
        party("gina", "person", "Gina Park", email="gina@globex.example"),
        relation("works_at", "carla", "acme", "2019-09-01", title="CFO", department="Finance"),
        relation("works_at", "ann", "acme", "2021-02-01", title="Accountant",
                 department="Finance"),
        relation("works_at", "tom", "acme", "2022-05-01", title="Accountant",
                 department="Finance"),
        relation("works_at", "ivan", "acme", "2020-03-01", title="IT security lead",
                 department="IT"),
        relation("works_at", "cora", "ledger-partners", "2018-01-01", title="Consultant"),
        relation("works_at", "gina", "globex", "2023-01-01", title="Head of operations"),
        relation("stakeholder_of", "carla", "acme", "2026-01-10", "economic_buyer",
                 influence="high"),
        relation("stakeholder_of", "ivan", "acme", "2026-01-10", "technical_evaluator"),
        relation("stakeholder_of", "ann", "acme", "2026-01-10", "end_user"),
        relation("stakeholder_of", "tom", "acme", "2026-01-10", "end_user"),
        relation("stakeholder_of", "cora", "acme", "2026-01-10", "influencer",
                 note="advises Acme's finance team on the ERP choice"),
        relation("stakeholder_of", "gina", "globex", "2026-05-20", "champion"),
        {"deal": {"key": "erp-2026", "account": "acme", "name": "ERP rollout",
                  "stage": "qualification", "amount": 250000, "currency": "EUR",
                  "expected_close": "2026-06-30", "at": "2026-01-10"}},
        {"deal": {"key": "erp-2026", "account": "acme", "stage": "discovery",
                  "at": "2026-02-01"}},
        {"deal": {"key": "erp-2026", "account": "acme", "stage": "proposal",
                  "at": "2026-03-15"}},
        {"deal": {"key": "erp-2026", "account": "acme", "stage": "closed", "status": "won",
                  "at": "2026-04-15"}},
        {"deal": {"key": "globex-pos", "account": "globex", "name": "Point-of-sale finance",
                  "stage": "discovery", "amount": 80000, "currency": "EUR",
                  "expected_close": "2026-10-31", "at": "2026-05-20"}},
        interaction("meeting", "2026-02-01T10:00:00Z",
                    [("seb", "organizer"), ("carla", "attendee"), ("cora", "attendee"), acme],
                    {"topic": "ROI review"}),
        interaction("demo", "2026-02-20T14:00:00Z",
                    [("seb", "presenter"), ("ann", "attendee"), ("tom", "attendee"),
                     ("ivan", "attendee"), acme],
                    {"topic": "Month-end close in the new ERP"}),
        interaction("email", "2026-03-02T08:30:00Z",
                    [("seb", "sender"), ("ivan", "recipient"), acme],
                    {"topic": "Security questionnaire"}),
        interaction("proposal", "2026-03-15T16:00:00Z",
                    [("seb", "sender"), ("carla", "recipient"), acme],
                    {"amount": 250000, "currency": "EUR", "deal": "erp-2026"}),
        interaction("contract_signed", "2026-04-20T11:00:00Z",
                    [("carla", "signatory"), ("seb", "witness"), acme],
                    {"amount": 250000, "currency": "EUR", "deal": "erp-2026"}),
        interaction("meeting", "2026-05-12T09:00:00Z",
                    [("seb", "organizer"), ("carla", "attendee"), ("ivan", "attendee"), acme],
                    {"topic": "Project kick-off"}),
        interaction("demo", "2026-06-10T13:00:00Z",
                    [("seb", "presenter"), ("ann", "attendee"), ("tom", "attendee"), acme],
                    {"topic": "Training: invoices and approvals"}),
        interaction("meeting", "2026-06-05T15:00:00Z",
                    [("seb", "organizer"), ("gina", "attendee"), ("globex", "account")],
                    {"topic": "Checkout finance pilot"}),
    ]  # fmt: skip


def bank_household() -> list[Record]:
    """The Bernards bank as one unit: a couple, two children, a joint account, offers."""
    return [
        party("bernard-home", "household", "Bernard household",
              address="3 Avenue Jean Jaurès, 69007 Lyon"),
        party("paul", "person", "Paul Bernard", birth_date="1979-11-02",
              email="paul.bernard@example.org"),
        party("nadia", "person", "Nadia Bernard", birth_date="1981-07-21"),
        party("emma", "person", "Emma Bernard", birth_date="2013-02-14"),
        party("louis", "person", "Louis Bernard", birth_date="2018-10-09"),
        relation("member_of", "paul", "bernard-home", "2010-09-01", "head", relation="parent"),
        relation("member_of", "nadia", "bernard-home", "2010-09-01", "partner",
                 relation="spouse"),
        relation("member_of", "emma", "bernard-home", "2013-02-14", "dependent",
                 relation="child"),
        relation("member_of", "louis", "bernard-home", "2018-10-09", "dependent",
                 relation="child"),
        party("bernard-joint", "account_holding", "Joint current account",
              product="joint_account", balance=8200, currency="EUR", opened_on="2011-01-15",
              provider="Banque Exemple"),
        party("bernard-insurance", "account_holding", "Family insurance",
              product="family_insurance", balance=0, currency="EUR", opened_on="2019-03-01",
              provider="Banque Exemple"),
        relation("holds", "paul", "bernard-joint", "2011-01-15", "holder", share=0.5),
        relation("holds", "nadia", "bernard-joint", "2011-01-15", "holder", share=0.5),
        relation("holds", "bernard-home", "bernard-insurance", "2019-03-01", "holder", share=1),
        purchase("paul", "2026-02-01T10:00:00Z", "B-PREMIUM-26",
                 [("CARD-PREMIUM", "cards", 1, 120.0)], channel="web"),
        purchase("nadia", "2026-05-20T17:45:00Z", "B-TRAVEL-26",
                 [("TRAVEL-COVER", "insurance", 1, 89.0)], consumers=["paul", "emma", "louis"],
                 channel="app"),
    ]  # fmt: skip


#: Fares by route (pickup, drop-off) and the distance, for the ride-sharing city.
ROUTES = {
    ("gare", "centre"): (12.5, 4.2),
    ("university", "centre"): (9.0, 3.1),
    ("airport", "centre"): (38.0, 21.5),
    ("centre", "university"): (9.5, 3.1),
}


def _trip(
    day: date,
    hour: int,
    rider: str,
    driver: str,
    route: tuple[str, str],
    rating: int,
    **extra: Any,
) -> Record:
    fare, distance = ROUTES[route]
    start = f"{day.isoformat()}T{hour:02d}:05:00Z"
    end = f"{day.isoformat()}T{hour:02d}:{25 if distance < 10 else 50}:00Z"
    payload = {
        "requested_at": f"{day.isoformat()}T{hour:02d}:00:00Z",
        "started_at": start,
        "ended_at": end,
        "pickup_zone": route[0],
        "dropoff_zone": route[1],
        "distance_km": distance,
        "fare": fare,
        "currency": "EUR",
        "ratings": {"rider": rating, "driver": 5},
        **extra,
    }
    return interaction(
        "trip",
        start,
        [(rider, "rider"), (driver, "driver")],
        payload,
        key=f"trip:{day.isoformat()}:{hour:02d}:{driver}",
    )


def ride_sharing_city() -> list[Record]:
    """RideCo in June 2026: riders, drivers, and Sam, who is on both sides.

    Dave drives every day for three weeks (the weekly quest: 5 trips rated 4.5+),
    then slows down; Fatou drives every other evening and is rated 4; Sam drives on
    weekend nights and rides to the university on weekdays.
    """
    records = [
        party("rideco", "platform", "RideCo", region="Lyon"),
        party("alice", "person", "Alice Moreau", email="alice@example.org"),
        party("omar", "person", "Omar Haddad"),
        party("yuki", "person", "Yuki Tanaka", email="yuki.tanaka@example.net"),
        party("sam", "person", "Sam Diallo"),
        party("dave", "person", "Dave Okafor"),
        party("fatou", "person", "Fatou Ndiaye"),
        stage("alice", "rideco", "rider", "active", "2026-03-01"),
        stage("omar", "rideco", "rider", "active", "2026-04-10"),
        stage("yuki", "rideco", "rider", "active", "2026-05-20"),
        stage("sam", "rideco", "rider", "active", "2026-02-01"),
        stage("sam", "rideco", "driver", "applied", "2026-04-01"),
        stage("sam", "rideco", "driver", "onboarding", "2026-04-05"),
        stage("sam", "rideco", "driver", "active", "2026-04-15"),
        stage("dave", "rideco", "driver", "applied", "2026-01-02"),
        stage("dave", "rideco", "driver", "active", "2026-01-12"),
        stage("fatou", "rideco", "driver", "active", "2026-02-15"),
    ]
    riders = ["alice", "omar", "yuki", "alice"]
    for offset in range(28):
        day = date(2026, 6, 1) + timedelta(days=offset)
        weekday, week = offset % 7, offset // 7
        if week < 3 or weekday in (0, 2, 4):
            rider = riders[offset % 4]
            if rider == "yuki":
                records.append(
                    _trip(day, 7, rider, "dave", ("airport", "centre"), 5,
                          incentive={"program": "airport-boost", "amount": 3})
                )  # fmt: skip
            else:
                records.append(
                    _trip(day, 7, rider, "dave", ("gare", "centre"), 5 - offset % 5 // 4)
                )
        if offset % 2 == 1:
            rider = ["omar", "alice", "yuki"][offset % 3]
            records.append(_trip(day, 17, rider, "fatou", ("university", "centre"), 4, tip=1.5))
        if weekday in (5, 6):
            records.append(
                _trip(day, 21, ["yuki", "omar"][offset % 2], "sam", ("centre", "university"), 5)
            )
        elif weekday in (1, 3):
            records.append(_trip(day, 8, "sam", "fatou", ("centre", "university"), 5))
    records += [
        interaction("trip", "2026-06-27T23:10:00Z", [("omar", "rider")],
                    {"status": "unfulfilled", "requested_at": "2026-06-27T23:10:00Z",
                     "pickup_zone": "airport", "dropoff_zone": "centre"},
                    key="trip:2026-06-27:23:unfulfilled"),
        interaction("support_ticket", "2026-06-25T19:00:00Z", [("fatou", "driver")],
                    {"ticket": "T-311", "status": "open", "subject": "Tip missing from payout",
                     "category": "earnings", "priority": "normal"}),
    ]  # fmt: skip
    return records


def app_store() -> list[Record]:
    """AppHub, the app store: developers are customers too (a supply side of their own)."""
    return [
        party("apphub", "platform", "AppHub"),
        party("nina", "person", "Nina Kovač", email="nina@kovac.example"),
        party("pixelworks", "organization", "PixelWorks Studio", industry="software",
              employees=12),
        stage("nina", "apphub", "developer", "applied", "2026-02-01"),
        stage("nina", "apphub", "developer", "active", "2026-02-10"),
        stage("pixelworks", "apphub", "developer", "active", "2026-03-01"),
        interaction("incentive_payout", "2026-04-30T12:00:00Z", [("pixelworks", "developer")],
                    {"amount": 500, "currency": "EUR", "program": "launch-grant",
                     "note": "first app published within 60 days"},
                    key="payout:launch-grant:pixelworks"),
        interaction("support_ticket", "2026-06-18T10:00:00Z", [("nina", "developer")],
                    {"ticket": "D-77", "status": "open", "subject": "App review delayed",
                     "category": "review", "priority": "high"}),
        interaction("support_ticket", "2026-06-19T08:00:00Z", [("nina", "developer")],
                    {"ticket": "D-77", "status": "pending",
                     "subject": "Waiting for the reviewer"}),
    ]  # fmt: skip


def internal_departments() -> list[Record]:
    """Northwind's departments serve each other: leads, the IT desk, recruiting."""
    return [
        party("northwind", "organization", "Northwind Ltd", industry="software"),
        party("marketing", "department", "Marketing", function="marketing"),
        party("sales", "department", "Sales", function="sales"),
        party("it", "department", "IT", function="it"),
        party("recruiting", "department", "Recruiting", function="hr"),
        party("mila", "person", "Mila Novak", email="mila@northwind.example"),
        party("seb", "person", "Sébastien Roy", email="seb@northwind.example"),
        party("sara", "person", "Sara Lind", email="sara@northwind.example"),
        party("ines", "person", "Inès Garcia", email="ines@northwind.example"),
        party("rita", "person", "Rita Okoye", email="rita@northwind.example"),
        relation("employed_in", "mila", "marketing", "2023-04-01", title="Marketing manager"),
        relation("employed_in", "seb", "sales", "2022-09-01", title="Account executive"),
        relation("employed_in", "sara", "sales", "2021-01-01", title="Head of sales"),
        relation("employed_in", "ines", "it", "2020-06-01", title="IT manager"),
        relation("employed_in", "rita", "recruiting", "2024-02-01", title="Recruiter"),
        relation("serves", "it", "northwind", "2025-01-01"),
        relation("serves", "marketing", "sales", "2025-01-01", categories=["leads"],
                 sla={"leads": "P2D"}),
        relation("serves", "recruiting", "northwind", "2025-01-01", categories=["hiring"]),
        party("lena", "person", "Lena Vogel", email="lena@vogel.example"),
        party("luca", "person", "Luca Bianchi"),
        party("lou", "person", "Lou Martin"),
        interaction("lead_handoff", "2026-05-05T09:00:00Z",
                    [("marketing", "from"), ("sales", "to"), ("lena", "lead")],
                    {"outcome": "accepted"}),
        interaction("lead_handoff", "2026-05-19T09:00:00Z",
                    [("marketing", "from"), ("sales", "to"), ("luca", "lead")],
                    {"outcome": "accepted"}),
        interaction("lead_handoff", "2026-06-02T09:00:00Z",
                    [("marketing", "from"), ("sales", "to"), ("lou", "lead")],
                    {"outcome": "rejected"}),
        interaction("service_request", "2026-05-04T09:00:00Z",
                    [("seb", "requester"), ("it", "provider")],
                    {"category": "access", "resolved_at": "2026-05-04T11:00:00Z",
                     "satisfaction": 5}),
        interaction("service_request", "2026-05-18T08:00:00Z",
                    [("sara", "requester"), ("it", "provider")],
                    {"category": "hardware", "resolved_at": "2026-05-22T16:00:00Z",
                     "satisfaction": 3}),
        interaction("service_request", "2026-06-15T10:00:00Z",
                    [("mila", "requester"), ("it", "provider")],
                    {"category": "incident", "resolved_at": "2026-06-15T12:30:00Z",
                     "satisfaction": 4}),
        interaction("service_request", "2026-04-06T09:00:00Z",
                    [("sara", "requester"), ("recruiting", "provider"), ("rita", "assignee")],
                    {"category": "hiring", "resolved_at": "2026-04-30T17:00:00Z",
                     "satisfaction": 5}),
        interaction("service_request", "2026-05-11T09:00:00Z",
                    [("ines", "requester"), ("recruiting", "provider"), ("rita", "assignee")],
                    {"category": "hiring", "resolved_at": "2026-06-22T17:00:00Z",
                     "satisfaction": 4}),
    ]  # fmt: skip


def world_records() -> list[Record]:
    """Every scenario's records, in one list for one write.

    The internal scenario comes first: Northwind's account executive, Sébastien,
    takes part in the ERP deal's meetings.
    """
    records = [
        *internal_departments(),
        *family_groceries(),
        *erp_deal(),
        *bank_household(),
        *ride_sharing_city(),
        *app_store(),
    ]
    return records
