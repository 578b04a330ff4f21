"""Household suggestions: people who share a normalised postal address and belong to no
household are proposed as a candidate household -- a proposal, never applied.

Each proposal carries the JSON Lines records that would accept it (the household
party and one ``member_of`` per person, role ``other``), for a person to review,
adjust (who is head?) and import. People whose data may not be aggregated
(``household_aggregation``) are left out, and only counted.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from partygraph import GraphReader, Party
from partygraph.times import to_storage
from partygraph_household import queries
from partygraph_household.rollup import iso
from partygraph_household.settings import Settings
from partygraph_household.vocabulary import HOUSEHOLD, MEMBER_OF, PURPOSE

__all__ = ["normalise_address", "suggestions"]

#: Address parts in the order they are joined.
_PARTS = ("line1", "line2", "house_number", "street", "postal_code", "city", "region", "country")

#: Common spellings of the same street word (English and French), folded to one form.
_WORDS = {
    "street": "st",
    "str": "st",
    "avenue": "ave",
    "av": "ave",
    "road": "rd",
    "boulevard": "blvd",
    "bd": "blvd",
    "drive": "dr",
    "lane": "ln",
    "court": "ct",
    "place": "pl",
    "square": "sq",
    "apartment": "apt",
    "appartement": "apt",
    "appt": "apt",
    "flat": "apt",
    "unit": "apt",
    "north": "n",
    "south": "s",
    "east": "e",
    "west": "w",
    "saint": "st",
    "sainte": "ste",
    "allee": "all",
    "chemin": "ch",
    "impasse": "imp",
    "route": "rte",
}
_NOT_WORD = re.compile(r"[^a-z0-9]+")


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).lower()


def _words(text: str) -> list[str]:
    return [_WORDS.get(word, word) for word in _NOT_WORD.split(_fold(text)) if word]


def normalise_address(value: Any) -> str | None:
    """One comparable form of a postal address (a string, or an object of parts).

    Case, accents, punctuation and spacing are ignored, common street words are
    abbreviated one way ("Street" and "St." match), postal codes lose their
    spaces. Returns None for an empty or unusable value.
    """
    if isinstance(value, str):
        words = _words(value)
    elif isinstance(value, Mapping):
        words = []
        for part in _PARTS:
            text = value.get(part)
            if not isinstance(text, str) or not text.strip():
                continue
            if part == "postal_code":
                words.append(_NOT_WORD.sub("", _fold(text)))
            else:
                words.extend(_words(text))
    else:
        return None
    return " ".join(words) or None


def _identifier(address: str) -> str:
    return "address-" + hashlib.sha256(address.encode()).hexdigest()[:12]


def suggestions(graph: GraphReader, settings: Settings, at: datetime) -> dict[str, Any]:
    """Proposals for people who share an address and belong to no household at *at*."""
    connection = graph.connection
    queries.without_jit(connection)
    attribute = settings.address_attribute
    candidates = queries.unhoused_with_address(connection, attribute, at)
    people = [party for party, _ in candidates]
    excluded = graph.excluded(people, PURPOSE, at) if people else {}
    by_address: dict[str, list[tuple[Party, Any]]] = defaultdict(list)
    left_out = 0
    for party, address in candidates:
        normal = normalise_address(address)
        if normal is None:
            continue
        if party.id in excluded:
            left_out += 1
            continue
        by_address[normal].append((party, address))
    homes: dict[str, set[int]] = defaultdict(set)
    for household_id, address in queries.housed_addresses(connection, attribute, at):
        normal = normalise_address(address)
        if normal is not None and normal in by_address:
            homes[normal].add(household_id)
    named = queries.households(connection, {i for ids in homes.values() for i in ids})
    proposals = []
    for normal, group in sorted(by_address.items()):
        existing = sorted(homes.get(normal, ()), key=lambda i: named[i].key if i in named else "")
        if len(group) < 2 and not existing:
            continue
        proposals.append(_proposal(normal, group, [named[i] for i in existing if i in named], at))
    return {"as_of": iso(at), "proposals": proposals, "left_out": left_out}


def _proposal(
    normal: str, group: list[tuple[Party, Any]], households: list[Party], at: datetime
) -> dict[str, Any]:
    identifier = _identifier(normal)
    day = to_storage(at).date().isoformat()
    parties = [{"key": party.key, "name": party.name} for party, _ in group]
    records: list[dict[str, Any]] = []
    if households:
        target = households[0]
        kind = "join_household"
        reason = (
            f"{len(group)} person(s) in no household share the address of household "
            f"{target.key!r} ({normal!r}): they may belong to it."
        )
        target_key = target.key
    else:
        kind = "new_household"
        reason = f"{len(group)} people in no household share the address {normal!r}."
        target_key = f"household-{identifier[len('address-') :]}"
        names = sorted({party.name.split()[-1] for party, _ in group if party.name})
        label = f"{' / '.join(names)} household" if names else f"Household at {normal}"
        records.append(
            {
                "party": {
                    "key": target_key,
                    "kind": HOUSEHOLD,
                    "name": label,
                    "attributes": {"address": group[0][1]},
                }
            }
        )
    for party, _ in group:
        records.append(
            {
                "relationship": {
                    "type": MEMBER_OF,
                    "source": party.key,
                    "target": target_key,
                    "role": "other",
                    "valid_from": day,
                }
            }
        )
    return {
        "id": identifier,
        "kind": kind,
        "address": normal,
        "household": (
            {"key": households[0].key, "name": households[0].name} if households else None
        ),
        "parties": parties,
        "reason": reason,
        "records": records,
    }
