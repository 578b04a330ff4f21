"""Per-party RFM scores from the stored scale of the last population scoring, never a scan."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta

from sqlalchemy import event
from test_b2c_analytics import AS_OF, generate

from partygraph import Toolkit
from partygraph.times import to_storage
from partygraph_b2c.analytics import RfmScale, score


def test_the_scale_scores_every_member_as_the_ranks_do() -> None:
    rng = random.Random(5)
    for size in (1, 2, 3, 7, 10, 101):
        days = [date(2025, 1, 1) + timedelta(days=rng.randrange(30)) for _ in range(size)]
        orders = [rng.randrange(1, 6) for _ in range(size)]
        nets = [float(rng.randrange(0, 5000, 250)) for _ in range(size)]
        figures = list(zip(days, orders, nets, strict=True))
        scale = RfmScale.of(to_storage(AS_OF), "analytics", figures)
        for day, count, net in figures:
            expected = (
                score(sum(other < day for other in days), size),
                score(sum(other < count for other in orders), size),
                score(sum(other < net for other in nets), size),
            )
            assert scale.score(day, count, net) == expected
    assert RfmScale.of(to_storage(AS_OF), None, []).score(date(2025, 1, 1), 1, 1.0) is None


@contextmanager
def statements_of(toolkit: Toolkit) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(*args: object) -> None:
        seen.append(str(args[2]))

    event.listen(toolkit.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(toolkit.engine, "before_cursor_execute", record)


def test_views_score_every_customer_as_the_population_pass_without_a_scan(
    b2c: Callable[..., Toolkit],
) -> None:
    toolkit = b2c()
    records, _ = generate()
    toolkit.write(records)
    population = {row["key"]: row for row in toolkit.plugin("b2c").rfm(AS_OF)}
    assert len(population) > 100
    for key, row in population.items():
        with statements_of(toolkit) as seen:
            figures = toolkit.metrics(key, as_of=AS_OF)["b2c"]
        assert (figures["rfm_r"], figures["rfm_f"], figures["rfm_m"]) == (
            row["r"],
            row["f"],
            row["m"],
        ), key
        # Besides the core's lookup of the party, the party's own purchases and usage (and
        # its categories) and the stored scale's row: no population statement.
        own = [item for item in seen if item != "BEGIN" and "FROM party \nWHERE" not in item]
        assert len(own) <= 4, own
        assert not any("GROUP BY" in statement.upper() for statement in seen), seen


def test_the_scale_is_stored_once_and_shared_by_every_toolkit(
    b2c: Callable[..., Toolkit],
) -> None:
    records, _ = generate()
    b2c().write(records)
    first = b2c()
    with statements_of(first) as opening:
        keys = sorted(row["key"] for row in first.plugin("b2c").customers())[:10]
    assert any("INSERT INTO b2c_rfm_scale" in item for item in opening)
    scored = {key: first.metrics(key)["b2c"]["rfm"] for key in keys}
    assert all(scored.values())
    other = b2c()  # another process, in effect: nothing in memory
    with statements_of(other) as seen:
        assert {key: other.metrics(key)["b2c"]["rfm"] for key in keys} == scored
    assert not any("GROUP BY" in statement.upper() for statement in seen), seen


def test_a_database_without_a_scale_scores_at_the_first_read_and_keeps_it(
    b2c: Callable[..., Toolkit],
) -> None:
    records, _ = generate()
    toolkit = b2c()
    toolkit.write(records)
    key = sorted(row["key"] for row in toolkit.plugin("b2c").rfm())[0]
    with toolkit.transaction() as connection:
        connection.exec_driver_sql("DELETE FROM b2c_rfm_scale")
    opened = b2c()
    with statements_of(opened) as first_read:
        scored = opened.metrics(key)["b2c"]["rfm"]
    with statements_of(opened) as second_read:
        assert opened.metrics(key)["b2c"]["rfm"] == scored
    assert scored is not None
    assert any("GROUP BY" in statement.upper() for statement in first_read)
    assert not any("GROUP BY" in statement.upper() for statement in second_read)


def test_an_in_memory_database_scores_at_the_first_read_on_the_read_s_connection(
    make_toolkit: Callable[..., Toolkit],
) -> None:
    """SQLite in memory has one connection, held by the read: the scale is computed on it.

    It cannot be stored until the read ends, so each read scores again until a
    population computation stores it; the scores are the same either way.
    """
    records, _ = generate()
    toolkit = make_toolkit(enabled=["b2c"], database_url="sqlite://")
    toolkit.write(records)
    keys = sorted(row["key"] for row in toolkit.plugin("b2c").rfm(AS_OF))[:5]
    toolkit.plugin("b2c").refresh_rfm()  # now, as the first read scores
    stored = {key: toolkit.metrics(key, as_of=AS_OF)["b2c"]["rfm"] for key in keys}
    with toolkit.transaction() as connection:
        connection.exec_driver_sql("DELETE FROM b2c_rfm_scale")
    with statements_of(toolkit) as first_read:
        first = {key: toolkit.view(key, as_of=AS_OF).sections["b2c"]["rfm"] for key in keys}
    assert {key: found["score"] for key, found in first.items()} == stored
    assert all(first.values())
    assert any("GROUP BY" in statement.upper() for statement in first_read)
