"""A plugin that only registers another toolkit's vocabulary: the ``core_only`` toolkit.

With no plugin enabled the core knows persons and organisations and no
interaction type, so the world's purchases and trips could not be written at
all. This plugin lends the core the six plugins' kinds and types (their
payload schemas included, so validation is the same) and nothing else: no
write hooks, no gate, no derived writes. What ``core_only`` saves over the
full pipeline is then exactly what the plugins' hooks cost.
"""

from __future__ import annotations

from partygraph import InteractionType, PartyKind, RelationshipType, Vocabulary, hookimpl

__all__ = ["CORE_KINDS", "VocabularyOnly"]

#: Party kinds the core registers itself.
CORE_KINDS = frozenset({"person", "organization"})


class VocabularyOnly:
    """Registers the kinds and types of *vocabulary*; implements no other hook."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        self.vocabulary = vocabulary

    @hookimpl
    def partygraph_party_kinds(self) -> list[PartyKind]:
        return [
            kind for name, kind in self.vocabulary.party_kinds.items() if name not in CORE_KINDS
        ]

    @hookimpl
    def partygraph_relationship_types(self) -> list[RelationshipType]:
        return list(self.vocabulary.relationship_types.values())

    @hookimpl
    def partygraph_interaction_types(self) -> list[InteractionType]:
        return list(self.vocabulary.interaction_types.values())
