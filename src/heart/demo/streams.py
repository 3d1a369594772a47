"""Random draws whose totals stay where the model says (stratified sampling).

A demo history is one realization of the model; with plain independent draws its totals wander by about
one standard error (±1 % on 7,700 responses, ±0.3 percentage points on a 7 % share), which is as wide
as the tolerance the demo is held to. These streams keep every draw random while making block totals
exact: a Bernoulli stream puts exactly round(p·B) successes, with the remainder carried to the next
block, in each shuffled block of B draws; a continuous stream takes one draw from each of B equal-
probability strata of the distribution and shuffles them; a categorical stream does both.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from statistics import NormalDist

import numpy as np

BLOCK = 500
_NORMAL = NormalDist()


class BernoulliStream:
    """Yes/no draws with probability ``p``; each block of ``block`` draws holds the expected number of yes."""

    def __init__(self, rng: np.random.Generator, p: float, block: int = BLOCK) -> None:
        self.rng, self.p, self.block = rng, p, block
        self.carry = float(rng.random())  # a random phase, so short runs are not biased downwards
        self.buffer: list[bool] = []

    def __call__(self) -> bool:
        if not self.buffer:
            expected = self.p * self.block + self.carry
            count = int(expected)
            self.carry = expected - count
            values = np.zeros(self.block, dtype=bool)
            values[:count] = True
            self.buffer = list(self.rng.permutation(values))
        return bool(self.buffer.pop())


class ContinuousStream:
    """Draws from a distribution given by its quantile function, one per stratum of each block, shuffled."""

    def __init__(self, rng: np.random.Generator, quantile: Callable[[float], float], block: int = BLOCK) -> None:
        self.rng, self.quantile, self.block = rng, quantile, block
        self.buffer: list[float] = []

    def __call__(self) -> float:
        if not self.buffer:
            strata = (self.rng.permutation(self.block) + self.rng.random(self.block)) / self.block
            self.buffer = [self.quantile(float(u)) for u in strata]
        return self.buffer.pop()


class CategoricalStream:
    """Draws among ``values`` with ``weights``; each block holds every value in proportion (carried)."""

    def __init__(self, rng: np.random.Generator, values: Sequence[str], weights: Sequence[float],
                 block: int = BLOCK) -> None:
        total = float(sum(weights))
        self.rng, self.values, self.block = rng, list(values), block
        self.shares = [w / total for w in weights]
        self.carry = [float(x) for x in rng.random(len(values))]
        self.buffer: list[str] = []

    def __call__(self) -> str:
        if not self.buffer:
            block: list[str] = []
            for index, value in enumerate(self.values):
                expected = self.shares[index] * self.block + self.carry[index]
                count = int(expected)
                self.carry[index] = expected - count
                block.extend([value] * count)
            self.buffer = [block[i] for i in self.rng.permutation(len(block))]
        return self.buffer.pop()


def lognormal(mean: float, sigma: float) -> Callable[[float], float]:
    """The quantile function of a lognormal distribution with this mean and log-scale spread."""
    mu = float(np.log(mean) - sigma**2 / 2)

    def quantile(u: float) -> float:
        return float(np.exp(mu + sigma * _NORMAL.inv_cdf(min(max(u, 1e-9), 1 - 1e-9))))

    return quantile


def spread(rng: np.random.Generator, count: int) -> np.ndarray:
    """``count`` stratified uniforms in [0, 1), shuffled: one in each 1/count of the interval."""
    return (rng.permutation(count) + rng.random(count)) / max(count, 1)


class HaltonStream:
    """Points spread evenly over the unit cube: each block is a stretch of a randomly shifted Halton sequence,
    handed out in shuffled order, so a year of calls covers the map the way the distribution says (not with
    the clumps and holes of independent draws) while consecutive calls stay unrelated."""

    BASES = (2, 3, 5, 7, 11)

    def __init__(self, rng: np.random.Generator, dimensions: int, block: int = BLOCK) -> None:
        self.rng, self.block = rng, block
        self.shift = [float(x) for x in rng.random(dimensions)]
        self.index = int(rng.integers(1, 4096))
        self.buffer: list[list[float]] = []

    def __call__(self) -> list[float]:
        if not self.buffer:
            points = [[(_radical_inverse(self.index + n, base) + shift) % 1.0
                       for base, shift in zip(self.BASES, self.shift, strict=False)] for n in range(self.block)]
            self.index += self.block
            self.buffer = [points[i] for i in self.rng.permutation(self.block)]
        return self.buffer.pop()


def _radical_inverse(index: int, base: int) -> float:
    result, scale = 0.0, 1.0 / base
    while index:
        index, digit = divmod(index, base)
        result += digit * scale
        scale /= base
    return result
