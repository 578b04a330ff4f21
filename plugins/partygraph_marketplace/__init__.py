"""partygraph-marketplace: two-sided platforms, where both sides are customers.

A ride-sharing platform has two kinds of customer, riders and drivers; an app
store treats developers as customers too. The sides are configuration (the
presets ``ride-sharing`` and ``app-store``, or sides declared in config); each
side gives its members a role (``customer: true``, kind ``ecosystem``) with a
reason, and its own figures: earnings reports and incentive programs for the
supply side, lifetime value and trip suggestions for the demand side, open
support issues for both. Marketplace health (supply vs demand per zone and
hour, churn risk, retention) is computed set-based over the population.

Reach it from an open toolkit with ``toolkit.plugin("marketplace")``.
"""

from partygraph_marketplace.plugin import MarketplacePlugin

__all__ = ["MarketplacePlugin"]
