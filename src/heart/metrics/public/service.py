"""The public figures: every program's published numbers for one complete calendar year, suppression applied.

``public_figures`` is what a public page calls: the panel per program (responses, minutes to scene / on scene /
total, % transport, % PD backup for team safety, % EMS support, % the team felt safe), responses by month (with
their averages), call type, hour and beat, reach with every missed call under its one reason, the phone
program's calls resolved by phone by month, call type and hour, and any plugged-in group (``groups.PROVIDERS``).
Each number comes with its suppression flag and its text, and the report carries the words of every figure
(``heart.metrics.meanings``) and of the rule (``suppression.SUPPRESSION_RULE``).

``protected_groups`` gives the same groups with what is hidden in each, for the open data.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from heart.errors import InvalidInput
from heart.metrics.backends import MetricsSource
from heart.metrics.meanings import MEANINGS, label
from heart.metrics.public import groups as g
from heart.metrics.public.schemas import (
    MeaningPublic,
    ProgramYear,
    PublicCell,
    PublicGroup,
    PublicReport,
    PublicRow,
    PublicTable,
)
from heart.metrics.public.suppression import (
    FEWER,
    SUPPRESSION_RULE,
    THRESHOLD,
    is_small,
    protect_group,
    share_hidden,
)
from heart.metrics.service import round_half_up

NOT_SHOWN = f"not shown ({FEWER} behind it)"


class NotPublished(InvalidInput):
    """Only whole calendar years that have ended are published (the suppression rule's fifth part)."""


@dataclass(frozen=True)
class Protection:
    """What is hidden in one group."""

    total_hidden: bool
    hidden: dict[str, frozenset[str]]
    hidden_shares: frozenset[str]
    hidden_parts: frozenset[str]
    hidden_counts: frozenset[str]


def protect(group: g.RawGroup, threshold: int = THRESHOLD) -> Protection:
    """Apply the rule to one group: primary and complementary cells, its total, its shares and parts."""
    hidden, total_hidden = protect_group({name: table.cells for name, table in group.tables.items()},
                                         total=group.total, threshold=threshold)
    parts = {key for key, value in group.parts.items()
             if total_hidden or is_small(value, threshold) or is_small(group.total - value, threshold)}
    shares = set()
    for key, share in group.shares.items():
        whole_hidden = total_hidden or share.whole_key in parts
        cell_hidden = share.cell is not None and share.cell[1] in hidden.get(share.cell[0], frozenset())
        if whole_hidden or cell_hidden or share_hidden(share.part, share.whole, threshold):
            shares.add(key)
    counts = {key for key, value in group.counts.items() if is_small(value, threshold)}
    return Protection(total_hidden, hidden, frozenset(shares), frozenset(parts), frozenset(counts))


def check_publishable(year: int, today: date) -> None:
    """Refuse a year that has not ended (its running total, differenced between two days, would reveal cells)."""
    if year >= today.year:
        raise NotPublished(f"{year} has not ended: the public figures cover whole calendar years that have ended "
                           f"(the last one is {today.year - 1})", field="year")


def protected_groups(*, source: MetricsSource, first: int, last: int | None = None, threshold: int = THRESHOLD,
                     providers: Iterable[g.Provider] | None = None, beats: bool = True
                     ) -> list[tuple[g.RawGroup, Protection]]:
    """Every group of the whole years ``first`` to ``last`` with what the rule hides in it."""
    raw = g.collect(source=source, first=first, last=last,
                    providers=g.PROVIDERS if providers is None else providers, beats=beats)
    return [(group, protect(group, threshold)) for group in raw]


def public_figures(*, source: MetricsSource, year: int, today: date, threshold: int = THRESHOLD,
                   providers: Iterable[g.Provider] | None = None, beats: bool = True) -> PublicReport:
    """Every program's published figures for the calendar year, each with its suppression flag and text
    (responses by beat too, unless ``beats`` is False)."""
    check_publishable(year, today)
    programs: dict[str, ProgramYear] = {}
    for group, protection in protected_groups(source=source, first=year, threshold=threshold, providers=providers,
                                              beats=beats):
        entry = programs.setdefault(group.program, ProgramYear(program=group.program, year=year, groups={}))
        entry.groups[group.group] = render_group(group, protection)
    used = {key for entry in programs.values() for group in entry.groups.values()
            for key in [*group.figures, *group.tables]}
    return PublicReport(
        year=year, since=date(year, 1, 1), until=date(year, 12, 31), threshold=threshold, rule=SUPPRESSION_RULE,
        definitions={key: MeaningPublic(label=m.label, meaning=m.meaning) for key, m in MEANINGS.items()
                     if key in used},
        programs=dict(sorted(programs.items())),
    )


def count_cell(value: int, hidden: bool) -> PublicCell:
    return PublicCell(suppressed=True, text=FEWER) if hidden else PublicCell(value=value, text=f"{value:,}")


def figure_cell(value: float | None, hidden: bool, unit: str = "") -> PublicCell:
    if hidden:
        return PublicCell(suppressed=True, text=NOT_SHOWN)
    return PublicCell(value=value, text="—" if value is None else f"{value:.2f}{unit}")


def render_group(group: g.RawGroup, protection: Protection) -> PublicGroup:
    """The group as a page shows it: hidden values are null, with the rule's words as their text."""
    hidden_all = protection.total_hidden
    figures = {group.total_key: count_cell(group.total, hidden_all)}
    for key, average in group.averages.items():
        figures[key] = figure_cell(average, hidden_all)
    for key, value in group.parts.items():
        figures[key] = count_cell(value, key in protection.hidden_parts)
    for key, share in group.shares.items():
        percent = round_half_up(Fraction(100 * share.part, share.whole)) if share.whole else None
        figures[key] = figure_cell(percent, key in protection.hidden_shares, "%")
    for key, value in group.counts.items():
        figures[key] = count_cell(value, key in protection.hidden_counts)
    tables = {name: _render_table(name, table, protection.hidden.get(name, frozenset()), group, hidden_all)
              for name, table in group.tables.items()}
    return PublicGroup(group=group.group, total_hidden=hidden_all, figures=figures, tables=tables)


def _render_table(name: str, table: g.RawTable, hidden: frozenset[str], group: g.RawGroup, hidden_all: bool
                  ) -> PublicTable:
    meaning = MEANINGS.get(name)
    beside_keys = sorted({key for values in table.beside.values() for key in values})
    rows = []
    for key, value in table.cells.items():
        cells = {"count": count_cell(value, key in hidden)}
        for beside in beside_keys:
            cells[beside] = figure_cell(table.beside.get(key, {}).get(beside), key in hidden)
        rows.append(PublicRow(key=key, label=table.labels.get(key, key.replace("_", " ")), cells=cells))
    return PublicTable(key=name, label=label(name), meaning=meaning.meaning if meaning else "",
                       columns=["count", *beside_keys], rows=rows, total=count_cell(group.total, hidden_all))
