"""partygraph-privacy: consent, purposes, minors, access, erasure, retention and audit.

Enable it (``plugins.enabled = ["privacy", ...]``) and every write of every
plugin passes its gate: each interaction type and record type declares its
purposes, and a write for a purpose without a lawful basis for each person
concerned, at that time, is refused (or quarantined). It keeps an
append-only consent ledger, answers data-subject requests (access, erasure,
rectification, restriction) within their legal deadlines, keeps a keyed,
hash-chained audit log of writes, refusals and reads, and shows each viewer
role only the attribute categories it may see.

Reach it from an open toolkit with ``toolkit.plugin("privacy")``.
"""

from partygraph_privacy.plugin import PrivacyPlugin

__all__ = ["PrivacyPlugin"]
