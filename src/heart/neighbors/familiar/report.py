"""The familiar-neighbor report: what share of neighbors account for what share of responses, and how many were
seen N or more times — in the terms Durham published (0.5% of neighbors account for 12% of responses; 74 seen 5+,
19 seen 10+, 8 seen 20+, 4 seen 40+). Counts only: no name, no record, nothing personal.

A neighbor is a linked person (records merged into one count once); a response is a call one of their records was
named on, by the call's time, in the period.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from heart.navigation.followups.rules import CareRules, PublishedFigures
from heart.neighbors.familiar.flags import served_per_neighbor


@dataclass(frozen=True, slots=True)
class ShareRow:
    share_of_neighbors: float  # 0.005: the most-served 0.5% of neighbors
    neighbors: int
    responses: int
    share_of_responses: float
    published: float | None = None  # what the program published for the same share, if it did


@dataclass(frozen=True, slots=True)
class SeenRow:
    at_least: int
    neighbors: int
    responses: int
    share_of_responses: float
    published: int | None = None


@dataclass(frozen=True, slots=True)
class FamiliarReport:
    since: datetime
    until: datetime
    neighbors: int
    responses: int
    shares: list[ShareRow]
    seen: list[SeenRow]
    compared_with: str | None


def familiar_report(*, session: Session, since: datetime, until: datetime, rules: CareRules) -> FamiliarReport:
    """The report for [since, until), in the city's rows (``top_shares``, ``report_counts``)."""
    config = rules.familiar
    counts = sorted((int(count) for _, count in session.execute(served_per_neighbor(since, until))), reverse=True)
    total = sum(counts)
    published = config.compare_with or PublishedFigures(label="-")
    shares = []
    for share in config.top_shares:
        top = counts[:max(1, math.ceil(share * len(counts)))] if counts else []
        shares.append(ShareRow(share, len(top), sum(top), sum(top) / total if total else 0.0,
                               published.top_shares.get(share)))
    seen = []
    for at_least in config.report_counts:
        these = [count for count in counts if count >= at_least]
        seen.append(SeenRow(at_least, len(these), sum(these), sum(these) / total if total else 0.0,
                            published.seen.get(at_least)))
    return FamiliarReport(since, until, len(counts), total, shares, seen,
                          config.compare_with.label if config.compare_with else None)
