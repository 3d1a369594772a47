"""Small-cell suppression for the public figures: no count from 1 to 10 is shown, nor can it be worked out.

**The rule** (``SUPPRESSION_RULE`` is the same text in words, for the public pages and the open data's
description). The public figures are published per program and *complete calendar year* (local time of the
program); each group (a program-year: its responses, its phone calls, its eligible calls for reach) is a set of
one-dimensional tables whose cells add up to the group's total — responses by month, by call type, by hour of
day, by beat; eligible calls by outcome; phone calls by month, call type and hour.

1. *Primary*: a count from 1 to 10 is shown as "fewer than 11". Zero is shown.
2. *Shares*: a percentage of a shown total reveals its count and the count of the rest, so it is shown only
   when both are 0 or at least 11 (e.g. "% needed PD backup", 4 of 7,746, is "fewer than 11").
3. *Complementary*: a table with a suppressed cell must not let a reader work it out from the total and the
   cells shown. Cells are added to the suppressed ones, smallest first (never a zero), until every suppressed
   cell could still take several values for a reader who knows the total, every shown cell, *which* hidden
   cells are the small ones (1-10) and which are complements (at least 11, and no larger than the smallest
   cell still shown). If no cell is left to add, the group's total is hidden too.
4. *Groups*: a group whose total is hidden (fewer than 11, or rule 3) shows none of its cells, averages or
   shares; averages are shown only with their count.
5. *No overlapping periods*: only whole calendar years and their months are published — never year-to-date,
   rolling windows or arbitrary date ranges, and no totals across programs or years — because the difference
   of two overlapping totals is a new cell that no table protects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

THRESHOLD = 11
"""The smallest count shown (Durham's and most US agencies' rule: 1-10 are hidden)."""
FEWER = f"fewer than {THRESHOLD}"

SUPPRESSION_RULE = (
    f"No count from 1 to {THRESHOLD - 1} is shown; it reads \"{FEWER}\". A percentage is shown only when both the "
    f"count it is made of and the rest of its total are 0 or at least {THRESHOLD}. In each table whose cells add up "
    "to a total (responses by month, call type, hour or beat; eligible calls by outcome; phone calls by month, call "
    "type or hour), further cells are hidden — the smallest first, never a zero — until no hidden cell can be "
    "worked out from the total and the other cells; when that is impossible, the total is hidden too. A program-"
    "year whose total is hidden shows none of its figures. Figures are published only for whole calendar years and "
    "their months, with no totals across programs or years, so no two published totals overlap. The open data "
    "follows the same pattern: a value hidden in a table is blank in every row that has it, a percentage hidden for "
    "a program-year leaves that column blank for the program-year, and a program-year with a hidden total has no "
    "rows."
)


def is_small(count: int, threshold: int = THRESHOLD) -> bool:
    """A count the public must not see (1 to threshold - 1)."""
    return 0 < count < threshold


def share_hidden(part: int, whole: int, threshold: int = THRESHOLD) -> bool:
    """A share ``part / whole`` of a shown whole reveals ``part`` and ``whole - part``: hidden if either is small."""
    return is_small(part, threshold) or is_small(whole - part, threshold)


@dataclass(frozen=True, slots=True)
class Protected:
    """The outcome for one table: the keys of hidden cells, and whether its total must be hidden as well."""

    hidden: frozenset[str]
    total_hidden: bool


def protect_table(cells: Mapping[str, int], *, total_hidden: bool = False, threshold: int = THRESHOLD) -> Protected:
    """Which cells of a table (whose cells add up to its total) to hide: primary, then complements (rule 3).

    With the total hidden (a hidden group) every cell is hidden.
    """
    if total_hidden:
        return Protected(frozenset(cells), True)
    hidden = {key for key, value in cells.items() if is_small(value, threshold)}
    while hidden and not safe(cells, hidden, threshold):
        candidates = sorted((value, key) for key, value in cells.items() if key not in hidden and value >= threshold)
        if not candidates:
            return Protected(frozenset(cells), True)
        hidden.add(candidates[0][1])
    return Protected(frozenset(hidden), False)


def safe(cells: Mapping[str, int], hidden: set[str] | frozenset[str], threshold: int = THRESHOLD) -> bool:
    """No hidden cell has a single possible value for a reader who sees the total and the shown cells."""
    return all(high > low for low, high in feasible_ranges(cells, hidden, threshold).values())


def feasible_ranges(cells: Mapping[str, int], hidden: set[str] | frozenset[str], threshold: int = THRESHOLD
                    ) -> dict[str, tuple[int, int]]:
    """Each hidden cell's possible values, for a reader who knows the total, the shown cells and even which
    hidden cells are small (1 to threshold - 1) and which are complements (threshold up to the smallest shown
    cell of at least threshold, since complements are taken smallest first).

    With one equation (the cells add up to the total) and a box of bounds, each cell's possible values are
    exactly the integers of an interval.
    """
    remainder = sum(cells[key] for key in hidden)  # = total - shown cells: what the reader knows
    shown_candidates = [value for key, value in cells.items() if key not in hidden and value >= threshold]
    cap = min(shown_candidates, default=remainder)
    bounds = {key: (1, threshold - 1) if is_small(cells[key], threshold) else (threshold, max(threshold, cap))
              for key in hidden}
    low_sum = sum(low for low, _ in bounds.values())
    high_sum = sum(high for _, high in bounds.values())
    ranges = {}
    for key, (low, high) in bounds.items():
        others_low, others_high = low_sum - low, high_sum - high
        ranges[key] = (max(low, remainder - others_high), min(high, remainder - others_low))
    return ranges


def protect_group(tables: Mapping[str, Mapping[str, int]], *, total: int, threshold: int = THRESHOLD
                  ) -> tuple[dict[str, frozenset[str]], bool]:
    """Every table of one group (all adding up to the same ``total``): the hidden keys per table, and whether the
    group's total is hidden (it is small, or some table cannot be protected while it is shown)."""
    total_hidden = is_small(total, threshold)
    results = {name: protect_table(cells, total_hidden=total_hidden, threshold=threshold)
               for name, cells in tables.items()}
    if not total_hidden and any(result.total_hidden for result in results.values()):
        total_hidden = True
        results = {name: protect_table(cells, total_hidden=True, threshold=threshold) for name, cells in tables.items()}
    return {name: result.hidden for name, result in results.items()}, total_hidden
