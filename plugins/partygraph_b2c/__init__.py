"""partygraph-b2c: purchasers and consumers, the customer lifecycle, lifetime value and RFM.

Registers the interaction types ``purchase`` (one purchaser -- the billing
customer -- and optional consumers -- the service customers), ``return`` and
``product_usage``; assigns the roles ``customer``, ``consumer``,
``prospect``, ``loyal_customer`` and ``lapsed_customer`` with reasons, right
``as_of`` any date; publishes each party's lifetime value, order value,
frequency, RFM scores and top categories through the metrics hook and the
360-degree view; and computes the population's figures set-based
(``toolkit.plugin("b2c").customers()``, ``.rfm()``, ``.audience(...)``,
``partygraph b2c ...``).
"""

from partygraph_b2c.plugin import B2CPlugin

__all__ = ["B2CPlugin"]
