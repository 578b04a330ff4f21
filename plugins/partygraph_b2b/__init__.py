"""partygraph-b2b: accounts, buying committees and account-based engagement.

Enable it (``plugins.enabled = ["b2b", ...]``) to record who works where
(``works_at``), who sits on an account's buying committee
(``stakeholder_of``, with a committee role), the account hierarchy
(``subsidiary_of``), B2B touchpoints (``meeting``, ``email``, ``demo``,
``proposal``, ``contract_signed``) and deals (record type ``deal``). It
computes which organisations are customer or target accounts, each
stakeholder's role relative to the account, buying-committee coverage,
single-threaded risk, engagement scores rolled up through the hierarchy, and
a messaging track per stakeholder.

Reach it from an open toolkit with ``toolkit.plugin("b2b")``.
"""

from partygraph_b2b.plugin import B2BPlugin

__all__ = ["B2BPlugin"]
