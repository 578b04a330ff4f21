"""The demo world's configuration: every first-party plugin, set up for its scenarios.

The text is TOML so that ``partygraph demo`` can write it beside the database as it
is: the follow-up commands the tour prints (``partygraph --config ... explain ...``)
then read exactly the configuration the world was loaded with.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

__all__ = ["CONFIG_HEADER", "CONFIG_TEMPLATE", "config_text", "demo_config", "is_demo_config"]

#: The first line of every config the demo writes (how a rerun recognises its own file).
CONFIG_HEADER = "# The partygraph demo world (written by `partygraph demo`; rerun it to rebuild)."

CONFIG_TEMPLATE = (
    CONFIG_HEADER
    + """
# Use it with: partygraph --config {config_name} COMMAND

[database]
url = "{url}"

[plugins]
enabled = ["privacy", "b2c", "b2b", "household", "marketplace", "internal"]

[plugins.privacy.purpose_overrides]
# The shop's apps use product telemetry for personalisation: that needs a basis.
product_usage = ["service", "profiling"]

[plugins.b2c]
currency = "EUR"

[plugins.b2b]
currency = "EUR"
target_accounts = ["globex"]

[plugins.marketplace]
preset = "ride-sharing"
currency = "EUR"
zones = ["gare", "airport", "centre", "university"]
timezone = "Europe/Paris"

[plugins.marketplace.sides.developer]
# The app store's developers: a supply side of its own, customers of the platform.
position = "supply"
label = "Developer"
description = "Publishes apps on the app store."

[[plugins.marketplace.incentives]]
name = "weekly-quest"
side = "driver"
period = "week"
min_trips = 5
min_average_rating = 4.5
bonus = 40
description = "5 trips in a week rated 4.5 or more on average"

# -- audiences: `partygraph --config {config_name} segment list` --------------------------

[segments.product_tips]
description = "People who use what others bought for them: they get product tips, not prices."
purpose = "marketing"
export_purposes = ["sale_or_sharing"]
where = {{ all = [
    {{ kind = "person" }},
    {{ any = [
        {{ role = "consumer", plugin = "b2c" }},
        {{ role = "end_user", of = {{ role = "customer_account" }} }},
    ] }},
] }}

[segments.roi_content]
description = "The people who sign off purchases at accounts: they get ROI content."
purpose = "marketing"
where = {{ any = [
    {{ role = "economic_buyer" }},
    {{ role = "decision_maker" }},
    {{ role = "executive_sponsor" }},
] }}

[segments.single_threaded_targets]
description = "Target accounts where at most one stakeholder engaged lately."
purpose = "sales"
where = {{ all = [
    {{ role = "target_account" }},
    {{ predicate = "b2b.single_threaded", params = {{ max_engaged = 1 }} }},
] }}

[segments.education_savings_households]
description = "Households with at least one dependent: eligible for the education-savings offer."
purpose = "marketing"
where = {{ all = [
    {{ kind = "household" }},
    {{ metric = "household.dependents", op = ">=", value = 1 }},
] }}

[segments.drivers_near_incentive]
description = "Drivers within two trips of this week's quest."
purpose = "service"
where = {{ all = [
    {{ role = "driver" }},
    {{predicate = "marketplace.near_incentive", params = {{program = "weekly-quest", within = 2}}}},
] }}

[segments.departments_breaching_sla]
description = "Departments below 90% SLA attainment over the last 90 days."
purpose = "analytics"
where = {{ all = [
    {{ kind = "department" }},
    {{ predicate = "internal.breaching_sla", params = {{ days = 90, target = 0.9 }} }},
] }}
"""
)


def config_text(url: str, config_name: str) -> str:
    """The demo configuration as TOML, for the database at *url*."""
    return CONFIG_TEMPLATE.format(url=url.replace("\\", "/"), config_name=config_name)


def is_demo_config(path: Path) -> bool:
    """True when *path* is a config file that ``partygraph demo`` wrote."""
    try:
        with path.open(encoding="utf-8") as handle:
            return handle.readline().rstrip("\n") == CONFIG_HEADER
    except (OSError, UnicodeDecodeError):
        return False


def demo_config(url: str) -> dict[str, Any]:
    """The demo configuration as a dict (what ``partygraph.open`` receives)."""
    return tomllib.loads(config_text(url, "partygraph-demo.toml"))
