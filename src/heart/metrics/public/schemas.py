"""What the public figures service returns: figures with their suppression flag, the words, and the rule.

A page shows ``text`` (already "fewer than 11" where hidden) and may chart ``value`` (null where hidden); every
chart has the table it is drawn from beside it, and every figure its meaning from ``definitions``.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class PublicCell(BaseModel):
    """One published number: its value (null when hidden or when there is nothing to average) and its text."""

    value: float | None = None
    suppressed: bool = Field(False, description="hidden by the suppression rule (the text says so)")
    text: str = Field(description="what a page shows: '7,746', '11.26', '7.41%', 'fewer than 11', '—'")


class PublicRow(BaseModel):
    """A row of a table: the count and, where the table has them, figures shown only with their count."""

    key: str
    label: str
    cells: dict[str, PublicCell]


class PublicTable(BaseModel):
    """A count broken down by one dimension; the rows add up to ``total``."""

    key: str
    label: str
    meaning: str
    columns: list[str] = Field(description="the keys of each row's cells, the count first")
    rows: list[PublicRow]
    total: PublicCell


class PublicGroup(BaseModel):
    """One group of a program-year (its responses, eligible calls, phone calls, or a plugged-in group)."""

    group: str
    total_hidden: bool = Field(description="the group's total is hidden, and with it every figure of the group")
    figures: dict[str, PublicCell] = Field(description="the panel: the total, averages and shares")
    tables: dict[str, PublicTable] = Field(default_factory=dict)


class ProgramYear(BaseModel):
    """A program's published figures for one calendar year."""

    program: str
    year: int
    groups: dict[str, PublicGroup]


class MeaningPublic(BaseModel):
    label: str
    meaning: str


class PublicReport(BaseModel):
    """Every program's published figures for one complete calendar year."""

    year: int
    since: date
    until: date
    threshold: int = Field(description="the smallest count shown")
    rule: str = Field(description="the suppression rule, in words")
    definitions: dict[str, MeaningPublic] = Field(description="what each figure means (the internal dashboard's "
                                                              "words)")
    programs: dict[str, ProgramYear]
