"""Minors: their own consent does not count; a guardian's verified consent does."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from partygraph import Party, Toolkit, WriteRefused
from partygraph_privacy.minors import (
    GUARDIAN_OF,
    age_at,
    consent_age,
    is_guardian,
    jurisdiction_of,
)
from partygraph_privacy.settings import Settings

Factory = Callable[..., Toolkit]
EVENING = "2026-06-01T18:00:00Z"
BROWSING: tuple[Any, ...] = (
    "browsing",
    EVENING,
    [("lea", "user")],
    {"device": "tablet-1", "url": "https://shop.example/sneakers"},
)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def family(privacy_toolkit: Factory) -> Toolkit:
    """Claire heads the Moreau household; Léa, 14, uses the family tablet."""
    toolkit = privacy_toolkit()
    toolkit.upsert_party("moreau", "household", "Moreau household")
    toolkit.upsert_party("claire", "person", "Claire Moreau", {"birth_date": "1980-05-01"})
    toolkit.upsert_party("lea", "person", "Léa Moreau", {"birth_date": "2012-03-15"})
    toolkit.relate("claire", "moreau", "member_of", role="head", valid_from="2020-01-01")
    toolkit.relate("lea", "moreau", "member_of", role="dependent", valid_from="2020-01-01")
    toolkit.plugin("privacy").register_device("tablet-1", household="moreau")
    return toolkit


def browsing_count(toolkit: Toolkit) -> int:
    return len(toolkit.interactions("lea", type="browsing"))


def test_the_teenager_on_the_parents_shared_device(family: Toolkit) -> None:
    plugin = family.plugin("privacy")

    with pytest.raises(WriteRefused) as refused:
        family.record_interaction(*BROWSING)
    message = str(refused.value)
    assert message.startswith(f"lea: no lawful basis for profiling at {EVENING}: ")
    assert "shared device 'tablet-1'" in message
    assert "minor (aged 14)" in message

    # Her own consent is stored, but does not count.
    plugin.grant("lea", "profiling", at="2026-05-01", source="app pop-up")
    assert [entry["action"] for entry in plugin.ledger_history("lea")] == ["grant"]
    with pytest.raises(WriteRefused) as still:
        family.record_interaction(*BROWSING)
    assert "shared device 'tablet-1'" in str(still.value)
    assert "by the subject, aged 14, does not count below the digital-consent age of 16" in str(
        still.value
    )
    assert browsing_count(family) == 0

    # The head of the household consents for her, with a recorded verification.
    plugin.grant(
        "lea", "profiling", at="2026-05-20", given_by="claire", verification="card check #7"
    )
    family.record_interaction(*BROWSING)
    assert browsing_count(family) == 1
    assert plugin.ledger_history("lea")[-1]["given_by"] == "claire"


def test_an_explicit_guardian_can_consent_too(family: Toolkit) -> None:
    family.upsert_party("marc", "person", "Marc Durand")
    family.relate("marc", "lea", "guardian_of", valid_from="2012-03-15")
    family.plugin("privacy").grant(
        "lea", "profiling", at="2026-05-20", given_by="marc", verification="ID checked in store"
    )
    family.record_interaction(*BROWSING)
    assert browsing_count(family) == 1


def test_a_guardian_consent_needs_a_verification(family: Toolkit) -> None:
    family.plugin("privacy").grant("lea", "profiling", at="2026-05-20", given_by="claire")
    with pytest.raises(WriteRefused, match="has no recorded verification"):
        family.record_interaction(*BROWSING)


def test_someone_who_is_not_a_guardian_cannot_consent(family: Toolkit) -> None:
    family.upsert_party("uncle", "person")
    family.plugin("privacy").grant(
        "lea", "profiling", at="2026-05-20", given_by="uncle", verification="phone call"
    )
    with pytest.raises(WriteRefused, match="who is not a guardian of the minor"):
        family.record_interaction(*BROWSING)


def test_legitimate_interests_do_not_cover_a_minor_on_a_shared_device(family: Toolkit) -> None:
    family.plugin("privacy").grant(
        "lea", "profiling", basis="legitimate_interests", at="2026-05-20"
    )
    with pytest.raises(WriteRefused, match="shared device 'tablet-1'"):
        family.record_interaction(*BROWSING)


def test_an_adult_on_the_shared_device_consents_for_herself(family: Toolkit) -> None:
    family.plugin("privacy").grant("claire", "profiling", at="2026-05-20")
    family.record_interaction("browsing", EVENING, [("claire", "user")], {"device": "tablet-1"})
    assert len(family.interactions("claire", type="browsing")) == 1


def test_a_minor_s_own_consent_does_not_count_off_a_shared_device_either(family: Toolkit) -> None:
    plugin = family.plugin("privacy")
    plugin.register_device("phone-lea", shared=False)
    plugin.grant("lea", "profiling", at="2026-05-01")
    with pytest.raises(WriteRefused) as refused:
        family.record_interaction("browsing", EVENING, [("lea", "user")], {"device": "phone-lea"})
    assert "does not count below the digital-consent age" in str(refused.value)
    assert "shared device" not in str(refused.value)
    assert not plugin.basis("lea", "profiling", EVENING).allowed


def test_a_consent_given_once_of_age_counts(family: Toolkit) -> None:
    plugin = family.plugin("privacy")
    plugin.grant("lea", "profiling", at="2028-03-14")  # the day before her 16th birthday
    assert not plugin.basis("lea", "profiling", "2028-04-01").allowed
    plugin.grant("lea", "profiling", at="2028-03-15")
    assert plugin.basis("lea", "profiling", "2028-04-01").allowed


def test_the_digital_consent_age_follows_the_jurisdiction(family: Toolkit) -> None:
    family.upsert_party(
        "sam", "person", attributes={"birth_date": "2012-03-15", "jurisdiction": "CCPA"}
    )
    plugin = family.plugin("privacy")
    plugin.grant("sam", "profiling", at="2026-05-01")
    assert plugin.basis("sam", "profiling", EVENING).allowed  # 14 >= 13 under CCPA


def test_household_roll_ups_of_a_minor_need_a_guardian_consent(family: Toolkit) -> None:
    plugin = family.plugin("privacy")
    plugin.grant("claire", "household_aggregation", at="2026-01-01")
    plugin.grant("lea", "household_aggregation", at="2026-01-01")  # her own: does not count
    lea = family.party("lea").id
    assert list(family.excluded(["claire", "lea"], "household_aggregation", EVENING)) == [lea]
    plugin.grant(
        "lea", "household_aggregation", at="2026-02-01", given_by="claire", verification="signed"
    )
    assert family.excluded(["claire", "lea"], "household_aggregation", EVENING) == {}


def test_age_at_counts_whole_years_from_the_birth_date() -> None:
    lea = Party("lea", "person", attributes={"birth_date": "2012-03-15"})
    assert age_at(lea, at("2026-03-14T23:59:59")) == 13
    assert age_at(lea, at("2026-03-15T00:00:00")) == 14
    assert age_at({"birth_date": "2012-03-15"}, at("2030-01-01T00:00:00")) == 17
    assert age_at(Party("x", "person"), at("2026-01-01T00:00:00")) is None
    assert age_at({"birth_date": "not a date"}, at("2026-01-01T00:00:00")) is None


def test_consent_age_and_jurisdiction_come_from_the_settings() -> None:
    settings = Settings(digital_consent_age={"GDPR": 16, "CCPA": 13, "GDPR-FR": 15})
    assert consent_age(settings, "GDPR") == 16
    assert consent_age(settings, "CCPA") == 13
    assert consent_age(settings, "GDPR-FR") == 15
    assert consent_age(settings, "elsewhere") == 16  # the default jurisdiction's
    assert jurisdiction_of({"jurisdiction": "CCPA"}, settings) == "CCPA"
    assert jurisdiction_of(Party("x", "person"), settings) == "GDPR"


def test_is_guardian_follows_relationships_through_time(family: Toolkit) -> None:
    family.upsert_party("marc", "person")
    link = family.relate(
        "marc", "lea", "guardian_of", valid_from="2012-03-15", valid_to="2025-01-01"
    )
    assert link.type == GUARDIAN_OF.name
    ids = {key: family.party(key).id for key in ("claire", "lea", "marc")}
    with family.engine.connect() as connection:
        assert is_guardian(connection, ids["marc"], ids["lea"], at("2024-06-01T00:00:00"))
        assert not is_guardian(connection, ids["marc"], ids["lea"], at("2025-06-01T00:00:00"))
        assert is_guardian(connection, ids["claire"], ids["lea"], at("2025-06-01T00:00:00"))
        assert not is_guardian(connection, ids["claire"], ids["lea"], at("2019-06-01T00:00:00"))
        assert not is_guardian(connection, ids["lea"], ids["claire"], at("2025-06-01T00:00:00"))
