"""The guided tour: for each scenario, who is the customer and why, key figures, next commands.

The tour is data (``Tour``, JSON-ready through :meth:`Tour.as_dict`): every claim
is read from the toolkit as of :data:`~partygraph_demo.world.AS_OF` -- roles with
their reasons from ``toolkit.roles``, figures from ``toolkit.metrics`` and the
plugins' own APIs -- so the tour can never say something the toolkit does not.
Rendering it for a terminal is :mod:`partygraph_demo.render`'s job.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs

from partygraph import NotFoundError, RoleAssignment, Toolkit
from partygraph_demo.loading import PrivacyOutcomes
from partygraph_demo.world import AS_OF

__all__ = ["Figure", "PartyRoles", "RoleLine", "Scenario", "Tour", "build_tour"]


@attrs.frozen
class RoleLine:
    """One role as the tour shows it."""

    role: str
    plugin: str
    context: str | None
    customer: bool
    kind: str
    reason: str

    @classmethod
    def of(cls, role: RoleAssignment) -> RoleLine:
        """The tour's line for a role assignment."""
        return cls(
            role.role,
            role.plugin or "",
            role.context.key if role.context else None,
            role.customer,
            role.kind,
            role.reason,
        )


@attrs.frozen
class PartyRoles:
    """A party of the scenario and the roles it plays there."""

    key: str
    name: str
    roles: tuple[RoleLine, ...]

    @property
    def is_customer(self) -> bool:
        """Does any of these roles make the party a customer?"""
        return any(role.customer for role in self.roles)


@attrs.frozen
class Figure:
    """A key figure: what it is, its value as shown, and where it comes from."""

    label: str
    value: str
    source: str


@attrs.frozen
class Scenario:
    """One scenario of the source documents, as the demo world stages it."""

    slug: str
    title: str
    story: str
    key_party: str
    parties: tuple[PartyRoles, ...]
    figures: tuple[Figure, ...]
    commands: tuple[str, ...]
    #: How far the key party's picture reaches (``partygraph graph --depth``).
    depth: int = 1


@attrs.frozen
class Tour:
    """The whole tour, as of one moment."""

    as_of: str
    database: str
    config: str
    scenarios: tuple[Scenario, ...]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (what ``partygraph demo --json`` prints)."""
        data: dict[str, Any] = attrs.asdict(self)
        for scenario, raw in zip(self.scenarios, data["scenarios"], strict=True):
            for party, raw_party in zip(scenario.parties, raw["parties"], strict=True):
                raw_party["customer"] = party.is_customer
        return data


def _money(value: Any) -> str:
    return f"{float(value):,.2f} EUR"


def _percent(value: Any) -> str:
    return f"{float(value):.0%}"


class _Reader:
    """Reads a scenario's claims from the toolkit, as of the tour's date."""

    def __init__(self, toolkit: Toolkit, config: str) -> None:
        self.toolkit = toolkit
        self.config = config

    def parties(self, keys: Sequence[str], plugins: Sequence[str]) -> tuple[PartyRoles, ...]:
        found = []
        for key in keys:
            party = self.toolkit.party(key)
            roles = [
                RoleLine.of(role)
                for role in self.toolkit.roles(key, AS_OF)
                if role.plugin in plugins
            ]
            found.append(PartyRoles(key, party.name or key, tuple(roles)))
        return tuple(found)

    def metric(self, key: str, plugin: str, name: str) -> Any:
        return self.toolkit.metrics(key, AS_OF)[plugin][name]

    def command(self, text: str) -> str:
        return f"partygraph --config {self.config} {text}"


def _groceries(read: _Reader) -> Scenario:
    household = read.toolkit.plugin("household").view("martin-home", AS_OF)
    rollup = household["rollup"]
    return Scenario(
        slug="groceries",
        title="A family shopping for groceries",
        story=(
            "Sophie Martin does the family's grocery shopping every other Saturday. She pays, "
            "so she is the customer: billing, loyalty and lifetime value are about her. Marc "
            "and the children never pay, but the coffee is for Marc and the snacks for Léa "
            "and Hugo: they are consumers, and they influence what goes into the basket."
        ),
        key_party="sophie",
        parties=read.parties(["sophie", "marc", "lea", "martin-home"], ("b2c", "household")),
        figures=(
            Figure("Sophie's orders", str(read.metric("sophie", "b2c", "orders")), "b2c"),
            Figure(
                "Sophie's net spend",
                _money(read.metric("sophie", "b2c", "historic_clv")),
                "b2c",
            ),
            Figure(
                "Sophie's lifetime value (with prediction)",
                _money(read.metric("sophie", "b2c", "clv")),
                "b2c",
            ),
            Figure(
                "household members counted / buyers",
                f"{rollup['members_counted']} / {rollup['spend']['buyers']}",
                "household",
            ),
        ),
        commands=(
            read.command(f"explain marc --as-of {AS_OF}"),
            read.command(f"b2c customers --as-of {AS_OF}"),
            read.command(f"household show martin-home --as-of {AS_OF}"),
            read.command(f"graph martin-home --as-of {AS_OF}"),
        ),
    )


def _erp(read: _Reader) -> Scenario:
    b2b = read.toolkit.plugin("b2b")
    (globex,) = b2b.coverage(AS_OF, account="globex")
    return Scenario(
        slug="erp-deal",
        title="The ERP deal: a buying committee",
        story=(
            "Acme Manufacturing bought an ERP in April. The customer is the organisation; "
            "inside it the CFO signs (economic buyer), IT checks security (technical "
            "evaluator) and the accountants will use it (end users). An outside consultant "
            "sways the decision. Globex, the next target, has only one engaged contact."
        ),
        key_party="acme",
        parties=read.parties(["acme", "carla", "ivan", "ann", "cora", "globex"], ("b2b",)),
        figures=(
            Figure("won with Acme", _money(read.metric("acme", "b2b", "won_amount")), "b2b"),
            Figure(
                "Acme's committee coverage",
                _percent(read.metric("acme", "b2b", "coverage")),
                "b2b",
            ),
            Figure(
                "Acme's engagement score",
                f"{read.metric('acme', 'b2b', 'engagement_score'):g}",
                "b2b",
            ),
            Figure("Globex", str(globex["risk"]), "b2b"),
        ),
        commands=(
            read.command(f"explain carla --as-of {AS_OF}"),
            read.command(f"b2b coverage --as-of {AS_OF}"),
            read.command(f"b2b deals --as-of {AS_OF}"),
            read.command(f"graph acme --as-of {AS_OF}"),
        ),
    )


def _bank(read: _Reader) -> Scenario:
    household = read.toolkit.plugin("household").view("bernard-home", AS_OF)
    rollup = household["rollup"]
    offers = ", ".join(offer["label"] for offer in household["offers"]) or "none"
    products = ", ".join(product["product"] for product in rollup["products"]) or "none"
    return Scenario(
        slug="bank-household",
        title="The bank household",
        story=(
            "The bank sees Paul and Nadia Bernard and their children Emma and Louis as one "
            "economic unit: a joint account held half each, a family insurance held by the "
            "household, two parents who buy, two children the offers are really about."
        ),
        key_party="bernard-home",
        parties=read.parties(["bernard-home", "paul", "nadia", "emma"], ("household", "b2c")),
        figures=(
            Figure(
                "members (adults / dependents)",
                f"{rollup['life_stage']['members']} "
                f"({rollup['life_stage']['adults']} / {rollup['life_stage']['dependents']})",
                "household",
            ),
            Figure("products held", products, "household"),
            Figure("balances held", _money(rollup["holdings_value"]), "household"),
            Figure("eligible offers", offers, "household"),
        ),
        commands=(
            read.command(f"explain bernard-home --as-of {AS_OF}"),
            read.command(f"household offers --as-of {AS_OF}"),
            read.command(f"graph bernard-home --as-of {AS_OF} --depth 2"),
        ),
        depth=2,
    )


def _ride_sharing(read: _Reader) -> Scenario:
    paid = read.toolkit.interactions("dave", type="incentive_payout", limit=None)
    return Scenario(
        slug="ride-sharing",
        title="A small ride-sharing city",
        story=(
            "RideCo has two kinds of customer: riders, who pay for trips, and drivers, "
            "without whom there is no service. Drivers get earnings statements and "
            "incentives; riders get a lifetime value. Sam drives on weekend nights and rides "
            "to the university on weekdays: he is a customer on both sides."
        ),
        key_party="sam",
        parties=read.parties(["sam", "dave", "fatou", "alice"], ("marketplace",)),
        figures=(
            Figure(
                "Dave: trips / net earnings",
                f"{read.metric('dave', 'marketplace', 'driver.trips')} / "
                f"{_money(read.metric('dave', 'marketplace', 'driver.net_earnings'))}",
                "marketplace",
            ),
            Figure("Dave: weekly-quest bonuses paid", str(len(paid)), "marketplace"),
            Figure(
                "Sam: trips as driver / as rider",
                f"{read.metric('sam', 'marketplace', 'driver.trips')} / "
                f"{read.metric('sam', 'marketplace', 'rider.trips')}",
                "marketplace",
            ),
            Figure(
                "Fatou: open support tickets",
                str(read.metric("fatou", "marketplace", "driver.open_issues")),
                "marketplace",
            ),
        ),
        commands=(
            read.command(f"explain sam --as-of {AS_OF}"),
            read.command("marketplace earnings dave --since 2026-06-01 --until 2026-06-29"),
            read.command("marketplace incentives --at 2026-06-24"),
            read.command(f"graph sam --as-of {AS_OF}"),
        ),
    )


def _app_store(read: _Reader) -> Scenario:
    return Scenario(
        slug="app-store",
        title="An app store: developers are customers",
        story=(
            "AppHub sells apps, but its developers are customers too: they need support, "
            "payouts and programs. A developer can be a person or a studio; each becomes "
            "a customer of the platform when its membership is activated."
        ),
        key_party="pixelworks",
        parties=read.parties(["nina", "pixelworks"], ("marketplace",)),
        figures=(
            Figure(
                "PixelWorks: launch-grant payout",
                _money(read.metric("pixelworks", "marketplace", "developer.net_earnings")),
                "marketplace",
            ),
            Figure(
                "Nina: open support tickets",
                str(read.metric("nina", "marketplace", "developer.open_issues")),
                "marketplace",
            ),
        ),
        commands=(
            read.command(f"explain nina --as-of {AS_OF}"),
            read.command("marketplace sides"),
            read.command(f"graph apphub --as-of {AS_OF}"),
        ),
    )


def _internal(read: _Reader) -> Scenario:
    internal = read.toolkit.plugin("internal")
    levels = {row["department"]: row for row in internal.service_levels("2026-04-01", AS_OF)}
    (handoff,) = internal.handoffs("2026-04-01", AS_OF)
    return Scenario(
        slug="internal",
        title="Internal customers: departments serve each other",
        story=(
            "At Northwind, marketing hands leads to sales, the IT service desk serves "
            "everyone, and Rita the recruiter works for the hiring managers. Each "
            "department is the customer of the ones that serve it, with service levels "
            "to keep."
        ),
        key_party="recruiting",
        parties=read.parties(["sales", "sara", "rita", "it"], ("internal",)),
        figures=(
            Figure(
                "marketing -> sales lead acceptance",
                f"{_percent(handoff['acceptance_rate'])} "
                f"({handoff['accepted']} of {handoff['accepted'] + handoff['rejected']})",
                "internal",
            ),
            Figure(
                "IT desk: SLA attainment",
                _percent(levels["it"]["sla"]["attainment"]),
                "internal",
            ),
            Figure(
                "Recruiting: median time to hire",
                f"{levels['recruiting']['median_resolution_hours'] / 24:.1f} days",
                "internal",
            ),
        ),
        commands=(
            read.command(f"explain sara --as-of {AS_OF}"),
            read.command("internal sla --since 2026-04-01 --until 2026-07-01"),
            read.command("internal handoffs --since 2026-04-01 --until 2026-07-01"),
            read.command(f"graph recruiting --as-of {AS_OF}"),
        ),
    )


def _privacy(read: _Reader, outcomes: PrivacyOutcomes) -> Scenario:
    privacy = read.toolkit.plugin("privacy")
    marketing = privacy.can_contact("sophie", "email", "marketing", AS_OF)
    billing = privacy.can_contact("sophie", "email", "billing", AS_OF)
    try:
        read.toolkit.party(outcomes.erased)
        present = " (still present!)"
    except NotFoundError:
        present = ""
    return Scenario(
        slug="privacy",
        title="Privacy: a teenager, a withdrawn consent, an erasure",
        story=(
            "Léa, 14, opened the shop's recipes app on the family's shared tablet: profiling "
            "a minor there needs a guardian's verified consent, so the event was refused "
            "until her mother gave it. Sophie withdrew her marketing e-mail consent; her "
            "receipts still go out under the contract. Yuki, a rider, asked to be erased: "
            "she is gone, the drivers' trips and earnings stay."
        ),
        key_party="lea",
        parties=read.parties(["lea"], ("b2c",)),
        figures=(
            Figure("Léa on the shared tablet, before consent", outcomes.refused, "privacy"),
            Figure(
                "recorded after the guardian's consent",
                "yes" if outcomes.recorded_after_consent else "no",
                "privacy",
            ),
            Figure(
                "marketing e-mail to Sophie",
                f"{'allowed' if marketing.allowed else 'not allowed'}: {marketing.reason}",
                "privacy",
            ),
            Figure(
                "receipt e-mail to Sophie",
                f"{'allowed' if billing.allowed else 'not allowed'}: {billing.reason}",
                "privacy",
            ),
            Figure(
                "Yuki erased: residual hits / her trips kept for drivers",
                f"{outcomes.residual_hits} / {outcomes.erased_trips_kept}{present}",
                "privacy",
            ),
        ),
        commands=(
            read.command("privacy consent show lea"),
            read.command(f"privacy can-contact sophie email marketing --at {AS_OF}"),
            read.command("privacy verify-audit"),
        ),
    )


#: The audiences the tour counts, declared under [segments] in the demo's config.
AUDIENCES = (
    "product_tips",
    "roi_content",
    "single_threaded_targets",
    "education_savings_households",
    "departments_breaching_sla",
)


def _audiences(read: _Reader) -> Scenario:
    figures = []
    for name in AUDIENCES:
        result = read.toolkit.segment(name, AS_OF)
        shown = ", ".join(result.keys[:4]) or "nobody"
        left_out = f"; {result.excluded} left out for {result.purpose}" if result.excluded else ""
        figures.append(Figure(name, f"{result.count} ({shown}){left_out}", "segments"))
    return Scenario(
        slug="audiences",
        title="Audiences: product tips for users, ROI content for buyers",
        story=(
            "Segments in the demo's config pick audiences in one SQL statement each: the "
            "people who use what others bought get product tips, the people who sign off "
            "get ROI content. Each segment names its purpose, and the privacy plugin leaves "
            "out everyone without a lawful basis for it: here, everyone who never agreed to "
            "marketing. Marc agreed and uses what Sophie buys; Carla signs at Acme."
        ),
        key_party="acme",
        parties=read.parties(["marc", "carla"], ("b2c", "b2b")),
        figures=tuple(figures),
        commands=(
            read.command("segment list"),
            read.command(f"segment show product_tips --as-of {AS_OF} --explain"),
            read.command(f"segment export roi_content --format csv --as-of {AS_OF}"),
        ),
    )


def build_tour(toolkit: Toolkit, outcomes: PrivacyOutcomes, *, database: str, config: str) -> Tour:
    """Read every scenario's claims from *toolkit* (the loaded demo world)."""
    read = _Reader(toolkit, config)
    builders: list[Callable[[_Reader], Scenario]] = [
        _groceries,
        _erp,
        _bank,
        _ride_sharing,
        _app_store,
        _internal,
        _audiences,
    ]
    scenarios = [builder(read) for builder in builders]
    scenarios.append(_privacy(read, outcomes))
    return Tour(AS_OF, database, config, tuple(scenarios))
