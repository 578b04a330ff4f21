"""partygraph-internal: internal customers and the CRM's own users.

Departments serve one another: marketing hands leads to sales, IT serves
everyone, a recruiter serves her hiring managers. This plugin registers the
``department`` party kind, ``employed_in`` and ``serves`` relationships and
the ``service_request``, ``lead_handoff`` and ``crm_usage`` interactions;
computes the ``internal_customer`` and ``internal_supplier`` roles with their
reasons; reports service levels, lead acceptance and CRM adoption (per
department, with a minimum group size; per employee only with a declared
lawful basis); and turns writes made by an employee
(``Context(actor=<party key>)``) into CRM usage evidence.

Reach its API from an open toolkit with ``toolkit.plugin("internal")``.
"""

from partygraph_internal.analytics import ReportRefused
from partygraph_internal.plugin import InternalPlugin

__all__ = ["InternalPlugin", "ReportRefused"]
