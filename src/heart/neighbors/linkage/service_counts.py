"""How many times each neighbor is served in a year: a heavy-tailed draw calibrated on Durham's published year.

Durham published, for December 2022 – December 2023: 0.5% of neighbors account for 12% of responses;
74 neighbors seen 5+ times, 19 seen 10+, 8 seen 20+, 4 seen 40+. Those four counts and the share are all
that is public, so the distribution is written through them: its survival function P(served ≥ k) passes
through 74, 19, 8 and 4 in ``CALIBRATION_NEIGHBORS`` neighbors at k = 5, 10, 20, 40, is a power law between
those points (log-log linear, the usual shape of such tails) and above 40 up to ``MOST_RESPONSES_A_YEAR``;
below 5 it runs from everyone (k = 1) through ``SHARE_SERVED_TWICE`` at k = 2. That share, the number of
neighbors and the cap were chosen on a grid so that the top 0.5% take 12% of responses (about 5,100 responses
to 3,500 neighbors; checked by a test over several seeds).

The draw is stratified (one uniform per 1/n slice of probability, shuffled), so a single year lands on the
figures within a neighbor or two instead of only on average: with a plain draw "4 seen 40+" would be
anything from 1 to 8.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

CALIBRATION_NEIGHBORS = 3500  # neighbors in the calibration year; other sizes scale every count in proportion
SHARE_SERVED_TWICE = 0.16  # P(served ≥ 2): with the tail below, the top 0.5% take 12.1% on average (11.5–12.9%)
MOST_RESPONSES_A_YEAR = 150
_KNOTS = ((1, 1.0), (2, SHARE_SERVED_TWICE), (5, 74 / CALIBRATION_NEIGHBORS), (10, 19 / CALIBRATION_NEIGHBORS),
          (20, 8 / CALIBRATION_NEIGHBORS), (40, 4 / CALIBRATION_NEIGHBORS))  # fmt: skip
_TAIL_EXPONENT = 1.0  # above 40 the 20→40 halving goes on: P(≥ k) ∝ 1/k


def survival(k: np.ndarray) -> np.ndarray:
    """P(a neighbor is served at least k times in the year), for integer k ≥ 1."""
    k = np.asarray(k, dtype=float)
    xs = np.log([x for x, _ in _KNOTS])
    ys = np.log([y for _, y in _KNOTS])
    inside = np.exp(np.interp(np.log(np.clip(k, 1, None)), xs, ys))
    last_k, last_s = _KNOTS[-1]
    tail = last_s * (k / last_k) ** -_TAIL_EXPONENT
    out = np.where(k <= last_k, inside, tail)
    return np.where(k > MOST_RESPONSES_A_YEAR, 0.0, np.where(k <= 1, 1.0, out))


def draw_yearly_service_counts(*, n_neighbors: int = CALIBRATION_NEIGHBORS, seed: int = 0) -> np.ndarray:
    """How many responses each of ``n_neighbors`` neighbors gets in a year (each ≥ 1), heavy-tailed like Durham's."""
    if n_neighbors < 1:
        raise ValueError("n_neighbors must be at least 1")
    rng = np.random.default_rng(seed)
    uniforms = (rng.permutation(n_neighbors) + rng.random(n_neighbors)) / n_neighbors  # one per 1/n slice
    ks = np.arange(1, MOST_RESPONSES_A_YEAR + 1)
    thresholds = survival(ks)  # decreasing: served ≥ k exactly when the uniform falls below P(≥ k)
    return np.searchsorted(-thresholds, -uniforms, side="left").astype(np.int64)


@dataclass(frozen=True, slots=True)
class ConcentrationFigures:
    """What the familiar-neighbor report shows: how concentrated responses are, in Durham's published terms."""

    neighbors: int
    responses: int
    top_half_percent_share: float  # share of responses that go to the most-served 0.5% of neighbors
    seen_5_plus: int
    seen_10_plus: int
    seen_20_plus: int
    seen_40_plus: int


def concentration(counts: np.ndarray) -> ConcentrationFigures:
    """Durham's figures for a year of per-neighbor response counts."""
    ordered = np.sort(np.asarray(counts))[::-1]
    top = max(1, math.ceil(0.005 * len(ordered)))
    total = int(ordered.sum())
    return ConcentrationFigures(
        neighbors=len(ordered),
        responses=total,
        top_half_percent_share=float(ordered[:top].sum() / total) if total else 0.0,
        seen_5_plus=int((ordered >= 5).sum()),
        seen_10_plus=int((ordered >= 10).sum()),
        seen_20_plus=int((ordered >= 20).sum()),
        seen_40_plus=int((ordered >= 40).sum()),
    )
