"""Segments under the privacy plugin: members without a lawful basis are left out and counted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from world import Shop

from partygraph import Toolkit

Factory = Callable[..., Toolkit]

SEGMENTS = {
    "persons_marketing": {
        "purpose": "marketing",
        "export_purposes": ["sale_or_sharing"],
        "where": {"kind": "person"},
    },
    "persons_analytics": {"purpose": "analytics", "where": {"kind": "person"}},
}


def _toolkit(make_toolkit: Factory) -> Toolkit:
    return make_toolkit(
        plugins={"shop": Shop(None)},
        enabled=["privacy", "shop"],
        config={"segments": SEGMENTS},
    )


def test_consent_objection_and_opt_out_decide_who_stays(make_toolkit: Factory) -> None:
    toolkit = _toolkit(make_toolkit)
    privacy: Any = toolkit.plugin("privacy")
    for key in ("ann", "bob", "cyd", "dee"):
        toolkit.upsert_party(key, "person", key.title())
    toolkit.upsert_party("acme", "organization", "Acme")
    for key in ("ann", "bob", "cyd"):
        privacy.grant(key, "marketing", at="2026-01-01")
        privacy.grant(key, "sale_or_sharing", at="2026-01-01")
    privacy.object("bob", "marketing", at="2026-02-01")
    privacy.opt_out("cyd", gpc=True, at="2026-02-01")

    shown = toolkit.segment("persons_marketing", "2026-03-01")
    # dee never consented; bob objected; cyd's opt-out of sale does not stop marketing.
    assert shown.keys == ["ann", "cyd"]
    assert (shown.excluded, dict(shown.exclusion_reasons)) == (2, {"marketing": 2})

    exported = toolkit.segment("persons_marketing", "2026-03-01", export=True)
    assert exported.keys == ["ann"]
    assert dict(exported.exclusion_reasons) == {"marketing": 2, "sale_or_sharing": 1}

    # Before the objection and the opt-out, bob and cyd were both in.
    earlier = toolkit.segment("persons_marketing", "2026-01-15", export=True)
    assert earlier.keys == ["ann", "bob", "cyd"]

    # Analytics rests on legitimate interests: everybody is in until they object.
    assert toolkit.segment("persons_analytics", "2026-03-01").keys == ["ann", "bob", "cyd", "dee"]
    privacy.object("dee", "analytics", at="2026-02-15")
    analytics = toolkit.segment("persons_analytics", "2026-03-01")
    assert analytics.keys == ["ann", "bob", "cyd"]
    assert analytics.excluded == 1
