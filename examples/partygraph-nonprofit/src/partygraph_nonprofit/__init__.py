"""partygraph-nonprofit: the people a non-profit serves are its customers.

Programmes (party kind ``program``) serve people (``service_delivery``);
donors give (``donation``) and volunteers help (``volunteers_for``). The roles
``beneficiary`` and ``enrolled`` make the people served customers; ``donor``,
``major_donor`` and ``volunteer`` are supporters. Reach the plugin's object
with ``toolkit.plugin("nonprofit")``.
"""

from partygraph_nonprofit.plugin import NonprofitPlugin

__all__ = ["NonprofitPlugin"]
