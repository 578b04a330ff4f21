"""Loading the demo world into a SQLite file, and running its privacy cases.

Everything goes through the public API, as an application would: the world's
records through ``toolkit.write``, the incentive payouts through the marketplace
plugin, consents, a withdrawal and an erasure through the privacy plugin. The
file is marked as a demo database (SQLite's ``application_id``), so that a rerun
may replace it while any other file is refused without ``--force``.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import attrs

import partygraph
from partygraph import Toolkit, UserError, WriteRefused
from partygraph_demo.config import config_text, demo_config, is_demo_config
from partygraph_demo.world import Record, world_records

__all__ = [
    "APPLICATION_ID",
    "DemoFiles",
    "PrivacyOutcomes",
    "is_demo_database",
    "load_demo",
    "open_demo",
]

#: SQLite ``application_id`` of a demo database ("pgdm").
APPLICATION_ID = 0x7067646D

#: The weeks of June 2026 whose weekly-quest payouts are made (any moment in each week).
PAYOUT_WEEKS = ("2026-06-03", "2026-06-10", "2026-06-17", "2026-06-24")

#: The teenager's attempt, on the family's shared tablet.
TABLET_USAGE: dict[str, Any] = {
    "product": "FreshMart recipes app",
    "order_id": "G-12",
    "device": "martin-tablet",
    "duration_seconds": 900,
}


@attrs.frozen
class DemoFiles:
    """Where the demo lives: the database and the config written beside it."""

    database: Path
    config: Path

    @classmethod
    def beside(cls, database: str | Path) -> DemoFiles:
        """The files for *database*; the config has the same name with ``.toml``."""
        path = Path(database)
        return cls(path, path.with_suffix(".toml"))

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of the database (absolute, so it works from anywhere)."""
        return f"sqlite:///{self.database.resolve().as_posix()}"


@attrs.frozen
class PrivacyOutcomes:
    """What the privacy cases did, as the tour reports it."""

    refused: str
    recorded_after_consent: bool
    erased: str
    erasure_passed: bool
    residual_hits: int
    erased_trips_kept: int


def is_demo_database(path: Path) -> bool:
    """True when *path* is a SQLite file that ``partygraph demo`` wrote."""
    try:
        with path.open("rb") as handle:
            if handle.read(16) != b"SQLite format 3\x00":
                return False
        connection = sqlite3.connect(f"file:{path.as_posix()}?mode=ro", uri=True)
        try:
            found = connection.execute("PRAGMA application_id").fetchone()
        finally:
            connection.close()
    except (OSError, sqlite3.Error):
        return False
    return bool(found) and int(found[0]) == APPLICATION_ID


def _remove(files: DemoFiles, force: bool) -> None:
    """Clear the way for a new demo: refuse to replace files that are not the demo's."""
    database = files.database
    if database.suffix == ".toml":
        raise UserError(
            f"--database: {database} ends in .toml, the suffix of the config written beside "
            "the database; choose a name such as partygraph-demo.db"
        )
    if files.config.exists() and not force and not is_demo_config(files.config):
        raise UserError(
            f"--database: the demo writes its config to {files.config}, which exists and "
            "was not written by the demo; choose another path or pass --force to replace it"
        )
    if database.exists():
        if not database.is_file():
            raise UserError(f"--database: {database} is not a file")
        if not force and not is_demo_database(database):
            raise UserError(
                f"--database: {database} exists and is not a demo database; "
                "choose another path or pass --force to replace it"
            )
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)


def open_demo(files: DemoFiles) -> Toolkit:
    """Open the toolkit on the demo database with the demo configuration."""
    return partygraph.open(demo_config(files.url))


def load_demo(files: DemoFiles, *, force: bool = False) -> tuple[Toolkit, PrivacyOutcomes]:
    """Build the demo world in *files* (replacing an earlier demo) and return it open.

    Writes the config beside the database first, so the printed follow-up
    commands find it. The caller closes the toolkit.
    """
    _remove(files, force)
    files.database.parent.mkdir(parents=True, exist_ok=True)
    files.config.write_text(config_text(files.url, files.config.name), encoding="utf-8")
    toolkit = open_demo(files)
    try:
        with toolkit.engine.begin() as connection:
            connection.exec_driver_sql(f"PRAGMA application_id = {APPLICATION_ID}")
        toolkit.write(world_records(), context=partygraph.Context(source="demo"))
        toolkit.write(privacy_records(), context=partygraph.Context(source="demo"))
        marketplace = toolkit.plugin("marketplace")
        for week in PAYOUT_WEEKS:
            marketplace.pay_incentives(f"{week}T12:00:00Z")
        outcomes = run_privacy_cases(toolkit)
    except BaseException:
        toolkit.close()
        raise
    return toolkit, outcomes


def privacy_records() -> list[Record]:
    """Consents and the shared tablet, as interchange records of the privacy plugin."""
    family = "signed family consent form"
    records: list[Record] = [
        {"device": {"key": "martin-tablet", "household": "martin-home", "shared": True}},
        {"consent": {"party": "sophie", "purpose": "marketing", "basis": "consent",
                     "channel": "email", "granted_at": "2025-12-01T10:00:00Z",
                     "source": "loyalty card sign-up"}},
    ]  # fmt: skip
    # Marketing consents behind the demo's audiences (segment product_tips, roi_content).
    records += [
        _consent("marc", "marketing", "2026-02-01T00:00:00Z", source="recipes app newsletter"),
        _consent("ann", "marketing", "2026-03-02T00:00:00Z", source="ERP user webinar"),
        _consent("carla", "marketing", "2026-02-20T00:00:00Z", source="trade fair badge scan"),
    ]
    for adult, children in (("sophie", ("lea", "hugo")), ("paul", ("emma", "louis"))):
        partner = {"sophie": "marc", "paul": "nadia"}[adult]
        for who in (adult, partner):
            records.append(_consent(who, "household_aggregation", "2026-01-01T00:00:00Z"))
        for child in children:
            records.append(
                _consent(
                    child,
                    "household_aggregation",
                    "2026-01-01T00:00:00Z",
                    given_by=adult,
                    verification=family,
                )
            )
    return records


def _consent(party: str, purpose: str, at: str, **fields: Any) -> Record:
    return {
        "consent": {"party": party, "purpose": purpose, "basis": "consent", "granted_at": at}
        | fields
    }


def run_privacy_cases(toolkit: Toolkit) -> PrivacyOutcomes:
    """The teenager on the shared tablet, a withdrawn consent and an erasure."""
    privacy = toolkit.plugin("privacy")
    # 1. Léa (14) opens the recipes app on the family tablet: profiling a minor on a
    #    shared device needs a guardian's verified consent, so the event is refused.
    try:
        toolkit.record_interaction(
            "product_usage", "2026-06-21T18:00:00Z", [("lea", "user")], TABLET_USAGE
        )
    except WriteRefused as error:
        refused = str(error)
    else:  # pragma: no cover - the privacy plugin's gate refuses it
        raise RuntimeError("the privacy gate let a minor's shared-device event through")
    privacy.grant(
        "lea",
        "profiling",
        at="2026-06-22T08:00:00Z",
        given_by="sophie",
        verification="parental PIN entered on the tablet",
    )
    toolkit.record_interaction(
        "product_usage", "2026-06-23T18:00:00Z", [("lea", "user")], TABLET_USAGE
    )
    recorded = len(toolkit.interactions("lea", type="product_usage")) == 1
    # 2. Sophie withdraws her marketing e-mail consent.
    privacy.withdraw("sophie", "marketing", channel="email", at="2026-05-15T08:00:00Z")
    # 3. Yuki asks to be forgotten: she disappears, the drivers' trips stay.
    trips = {trip.id for trip in toolkit.interactions("yuki", type="trip", limit=None) if trip.id}
    report = privacy.erase("yuki")
    with toolkit.reader() as graph:
        kept = len(graph.interactions_by_id(sorted(trips)))
    return PrivacyOutcomes(
        refused=refused,
        recorded_after_consent=recorded,
        erased="yuki",
        erasure_passed=bool(report["passed"]),
        residual_hits=len(report["residual_hits"]),
        erased_trips_kept=kept,
    )
