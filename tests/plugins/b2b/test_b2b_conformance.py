"""The b2b plugin passes the conformance suite every plugin must pass.

The subject is the account of seed 000's ERP deal: the plugin's own tables
hold deals and their states, which belong to the account.
"""

from __future__ import annotations

from b2b_world import ACCOUNTANTS, CFO_ONLY, ERP_WORLD, WON

from partygraph.conformance import PluginConformance


class TestB2BConformance(PluginConformance):
    plugin = "b2b"
    subject = "acme"
    subject_records = (
        *ERP_WORLD,
        *CFO_ONLY,
        *ACCOUNTANTS,
        *WON,
        {"party": {"key": "globex", "kind": "organization", "name": "Globex Retail"}},
        {"deal": {"key": "globex-crm", "account": "globex", "name": "CRM pilot",
                  "stage": "proposal", "amount": 40000, "at": "2026-03-01"}},
    )  # fmt: skip
