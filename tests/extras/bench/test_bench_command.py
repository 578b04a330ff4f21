"""``partygraph bench`` at the tiny scale, through the command line.

Timings are not asserted (they are for people to read); what is checked is
that every figure the benchmark promises is there and positive, that the
world holds what its seed says, and that erasure left nothing behind.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from rich.console import Console

from partygraph.cli import cli
from partygraph_bench.analytics import MEASUREMENTS
from partygraph_bench.cli import readable_table
from partygraph_bench.reads import KINDS, warm_file_cache
from partygraph_bench.scales import SCALES
from partygraph_bench.world import Plan

KEYS = {
    "scale": {"parties", "interactions"},
    "ingest": {
        "pipeline_rows_per_s", "floor_rows_per_s", "ratio_to_floor", "core_only_rows_per_s",
        "plugin_overhead_ratio", "naive_orm_rows_per_s", "ratio_to_naive_orm",
    },
    "single_write": {"p50_us", "p99_us", "naive_orm_p50_us", "ratio_to_naive_orm"},
    "reads": {
        "view_p50_us", "view_p99_us", "roles_p50_us", "roles_p99_us",
        "small_scale_view_p50_us", "growth_ratio_p50",
    },
    "analytics": {
        key for name in MEASUREMENTS for key in (f"{name}_s", f"{name}_ratio_to_raw_sql")
    },
    "privacy": {"export_ms", "erase_ms", "verify_scan_ms", "residual_hits"},
}  # fmt: skip


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["bench", "--scale", "tiny", "--repeat", "2", "--json"])
    assert result.exit_code == 0, result.output
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


@pytest.mark.parametrize("section", sorted(KEYS))
def test_every_promised_figure_is_reported(report: dict[str, Any], section: str) -> None:
    assert KEYS[section] <= set(report[section])


@pytest.mark.parametrize("section", ["ingest", "single_write", "reads", "analytics"])
def test_figures_are_positive_numbers(report: dict[str, Any], section: str) -> None:
    for name in KEYS[section]:
        value = report[section][name]
        assert type(value) in (int, float), name
        assert value > 0, name


def test_reads_are_reported_for_every_kind_of_party(report: dict[str, Any]) -> None:
    by_kind = report["reads"]["by_kind"]
    assert set(by_kind) == set(KINDS.values())
    for kind, figures in by_kind.items():
        assert figures["view_p50_us"] > 0, kind
        assert figures["roles_p50_us"] > 0, kind


def test_the_world_holds_what_its_seed_says(report: dict[str, Any]) -> None:
    plan = Plan.for_scale(SCALES["tiny"], subjects=2)
    scale = report["scale"]
    assert (scale["parties"], scale["interactions"]) == (plan.parties, plan.total_interactions)
    assert (scale["accounts"], scale["households"], scale["riders"]) == (
        plan.accounts,
        plan.households,
        plan.riders,
    )


def test_every_analytics_measurement_ran_on_rows(report: dict[str, Any]) -> None:
    for name in MEASUREMENTS:
        assert report["analytics"][f"{name}_statements"] >= 1, name
        assert report["analytics"][f"{name}_rows"] >= 1, name


def test_erasure_leaves_nothing_behind(report: dict[str, Any]) -> None:
    privacy = report["privacy"]
    assert (privacy["subjects"], privacy["residual_hits"], privacy["passed"]) == (2, 0, True)
    assert privacy["erase_ms"] > 0
    assert privacy["export_ms"] > 0


def test_the_readable_table_names_every_section(report: dict[str, Any]) -> None:
    console = Console(record=True, width=120)
    console.print(readable_table(report))
    text = console.export_text()
    for section in ("ingest", "single_write", "reads", "analytics", "privacy"):
        assert section in text
    assert "ratio_to_floor" in text
    assert "by_kind.department.view_p50_us" in text


def test_an_unsupported_database_is_refused_with_exit_2_and_no_password(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from partygraph.cli import main

    assert main(["bench", "--scale", "tiny", "--database", "mysql://me:s3cret@db/x"]) == 2
    error = capsys.readouterr().err
    assert "--database" in error
    assert "s3cret" not in error


def test_the_file_cache_is_warmed_by_reading_the_database_files(tmp_path: Path) -> None:
    database = tmp_path / "world.db"
    database.write_bytes(b"x" * 3_000_000)
    assert warm_file_cache(f"sqlite:///{database}") == 3_000_000
    (tmp_path / "world.db-wal").write_bytes(b"y" * 1000)
    assert warm_file_cache(f"sqlite:///{database}") == 3_001_000
    assert warm_file_cache("postgresql://bench@127.0.0.1/bench") == 0  # the server's buffers
