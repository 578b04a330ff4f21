"""The privacy plugin passes the conformance suite every plugin must pass.

The subject is Alice: consents with their evidence, an objection, a
restriction, and an opt-out in the plugin's consent ledger; Bob's ledger
entries must survive her erasure untouched.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from partygraph.conformance import PluginConformance


class TestPrivacyConformance(PluginConformance):
    plugin = "privacy"
    subject = "alice"
    subject_records = (
        {"party": {"key": "alice", "kind": "person", "name": "Alice Moreau",
                   "attributes": {"email": "alice.moreau@example.org",
                                  "birth_date": "1990-04-02"}}},
        {"party": {"key": "bob", "kind": "person", "name": "Bob Moreau",
                   "attributes": {"email": "bob@example.org"}}},
        {"consent": {"party": "alice", "purpose": "marketing", "channel": "email",
                     "granted_at": "2026-01-01T00:00:00Z", "source": "web form",
                     "evidence": "double opt-in confirmed 2026-01-01"}},
        {"objection": {"party": "alice", "purpose": "profiling", "at": "2026-03-02"}},
        {"restriction": {"party": "alice", "at": "2026-03-04", "reason": "accuracy contested"}},
        {"opt_out": {"party": "alice", "gpc": True, "at": "2026-03-05"}},
        {"consent": {"party": "bob", "purpose": "marketing", "granted_at": "2026-01-02"}},
    )  # fmt: skip
    failure_log_tables: ClassVar[Mapping[str, str]] = {
        "privacy_audit": "refused writes are audited after the rollback, in a transaction "
        "of their own (partygraph_write_failed)",
    }
