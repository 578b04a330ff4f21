"""partygraph-household: families as one economic unit.

Households (party kind ``household``) with members (``member_of``: head,
partner, dependent, other; dated, so history stays), joint holdings
(``holds`` an ``account_holding`` with a share), the roles
``customer_household``, ``head_of_household``, ``household_member``,
``dependent`` and ``household_influencer``, roll-ups credited by membership
period, life-stage facts, configurable offer rules, and address-based
household suggestions. Aggregation leaves out anyone whose data may not be
aggregated (``household_aggregation``). Reach the API with
``toolkit.plugin("household")``.
"""

from partygraph_household.plugin import HouseholdPlugin

__all__ = ["HouseholdPlugin"]
