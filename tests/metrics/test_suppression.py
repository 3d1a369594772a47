"""Complementary suppression against a reader who knows the rule: every hidden cell keeps several possible values.

The attacker here is the strongest one we can build for a table: it sees the total and every shown cell, and
tries every way to fill the hidden cells (each at least 1, since zeros are shown) that adds up to the total
*and* for which the published algorithm would have hidden exactly those cells. A hidden cell is recovered when
only one value survives. Hypothesis searches for a table where that happens.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from hypothesis import example, given, settings
from hypothesis import strategies as st

from heart.metrics.public.suppression import (
    THRESHOLD,
    feasible_ranges,
    protect_group,
    protect_table,
    safe,
    share_hidden,
)


def _fillings(keys: list[str], remainder: int) -> Iterator[dict[str, int]]:
    """Every way to give each key a value of at least 1 with the given sum."""
    if not keys:
        if remainder == 0:
            yield {}
        return
    first, rest = keys[0], keys[1:]
    for value in range(1, remainder - len(rest) + 1):
        for filling in _fillings(rest, remainder - value):
            yield {first: value, **filling}


def possible_values(cells: Mapping[str, int]) -> dict[str, set[int]]:
    """What a rule-aware reader can conclude about each hidden cell of the published table."""
    published = protect_table(cells)
    assert not published.total_hidden
    hidden = sorted(published.hidden)
    shown = {key: value for key, value in cells.items() if key not in published.hidden}
    remainder = sum(cells.values()) - sum(shown.values())
    found: dict[str, set[int]] = {key: set() for key in hidden}
    for filling in _fillings(hidden, remainder):
        world = {**shown, **filling}
        if protect_table(world) == published:
            for key, value in filling.items():
                found[key].add(value)
    return found


tables = st.dictionaries(st.sampled_from("abcdefg"), st.one_of(st.integers(0, 12), st.integers(0, 30)),
                         min_size=1, max_size=5)


@settings(max_examples=150, deadline=None)
@given(tables)
@example({"a": 1, "b": 11, "c": 11, "d": 40})
@example({"a": 10, "b": 10})
@example({"a": 1, "b": 1, "c": 1})
@example({"a": 3, "b": 0, "c": 0, "d": 25})
def test_no_hidden_cell_of_a_table_can_be_recovered_by_a_reader_who_knows_the_rule(cells: dict[str, int]) -> None:
    published = protect_table(cells)
    if published.total_hidden:  # the whole group is hidden: nothing to subtract from
        return
    assert {key for key, value in cells.items() if 0 < value < THRESHOLD} <= published.hidden
    assert all(cells[key] > 0 for key in published.hidden), "a zero is never hidden (it would be known)"
    for key, values in possible_values(cells).items():
        assert len(values) > 1, f"{key} = {cells[key]} recovered from {cells} (hidden {sorted(published.hidden)})"


def test_one_small_month_takes_the_smallest_other_month_with_it() -> None:
    months = {"01": 640, "02": 600, "03": 5, "04": 655, "05": 590}
    assert protect_table(months).hidden == {"03", "05"}
    assert feasible_ranges(months, {"03", "05"}) == {"03": (1, 10), "05": (585, 594)}


def test_small_cells_that_cannot_be_protected_hide_the_total() -> None:
    assert protect_table({"a": 1, "b": 11, "c": 0}).total_hidden  # 1 + 11 = 12: only 1 and 11 add up
    assert not safe({"a": 1, "b": 11}, {"a", "b"})
    hidden, total_hidden = protect_group({"month": {"03": 1, "04": 11}, "hour": {"1": 6, "2": 6}}, total=12)
    assert total_hidden and hidden == {"month": {"03", "04"}, "hour": {"1", "2"}}


def test_a_small_group_hides_every_cell_and_a_share_hides_with_its_rest() -> None:
    hidden, total_hidden = protect_group({"month": {"01": 0, "02": 7}}, total=7)
    assert total_hidden and hidden["month"] == {"01", "02"}
    assert share_hidden(4, 7746) and share_hidden(7740, 7746) and not share_hidden(0, 7746)
    assert not share_hidden(574, 7746)
