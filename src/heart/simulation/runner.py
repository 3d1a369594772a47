"""Replications of a scenario, spread over processes, and what they add up to.

Replication ``i`` of a run with seed ``s`` always draws from the ``i``-th child of ``SeedSequence(s)``,
so a run gives the same figures whatever the number of processes, and two scenarios run with the same seed
share their random streams replication by replication (common random numbers: their differences are
compared pair by pair, which gives tighter intervals than two independent runs).
"""

from __future__ import annotations

import math
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from heart.simulation.engine import run_replication
from heart.simulation.inputs import SimulationInput
from heart.simulation.stats import CONFIDENCE, Estimate, RunStats, combine, t_interval

Progress = Callable[[int, int], None]
"""Called with (replications done, replications asked for)."""


def default_workers() -> int:
    """Every core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def seeds(seed: int, replications: int) -> list[np.random.SeedSequence]:
    return np.random.SeedSequence(seed).spawn(replications)


_WORKER_INPUT: SimulationInput | None = None


def _start_worker(simulation: SimulationInput) -> None:
    global _WORKER_INPUT
    _WORKER_INPUT = simulation


def _replicate(job: tuple[int, np.random.SeedSequence]) -> tuple[int, RunStats]:
    assert _WORKER_INPUT is not None
    return job[0], run_replication(_WORKER_INPUT, job[1])


def replicate(simulation: SimulationInput, *, replications: int, seed: int, workers: int | None = None,
              progress: Progress | None = None) -> list[RunStats]:
    """Run ``replications`` replications on ``workers`` processes (1: in this process), in order of index."""
    workers = min(workers or default_workers(), replications)
    jobs = list(enumerate(seeds(seed, replications)))
    results: list[RunStats | None] = [None] * replications
    for done, (index, stats) in enumerate(_results(simulation, jobs, workers), 1):
        results[index] = stats
        if progress is not None:
            progress(done, replications)
    return [stats for stats in results if stats is not None]


def _results(simulation: SimulationInput, jobs: list[tuple[int, np.random.SeedSequence]], workers: int
             ) -> Iterator[tuple[int, RunStats]]:
    if workers <= 1:
        for index, seed in jobs:
            yield index, run_replication(simulation, seed)
        return
    # forkserver: safe to start from a threaded web server, and each worker receives the scenario once
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    if method == "forkserver":  # workers fork from a server that has the simulator imported already
        context.set_forkserver_preload(["heart.simulation.engine", "heart.simulation.runner"])
    chunk = max(1, min(8, len(jobs) // (workers * 8)))
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_start_worker,
                             initargs=(simulation,)) as pool:
        yield from pool.map(_replicate, jobs, chunksize=chunk)


@dataclass(frozen=True, slots=True)
class Summary:
    """The figures of a run: each a mean with its interval, hourly figures hour by hour."""

    replications: int
    figures: dict[str, Estimate | list[Estimate]]
    confidence: float = CONFIDENCE

    def estimate(self, name: str) -> Estimate:
        value = self.figures.get(name)
        if not isinstance(value, Estimate):
            return Estimate(math.nan, math.nan, 0)
        return value

    def by_hour(self, name: str) -> list[Estimate]:
        value = self.figures.get(name)
        return value if isinstance(value, list) else []


def summarise(runs: Sequence[RunStats]) -> Summary:
    return Summary(replications=len(runs), figures=combine(runs))


def paired_differences(first: Sequence[RunStats], second: Sequence[RunStats]) -> dict[str, Estimate]:
    """Second minus first, replication by replication (same seeds), for every number both runs have."""
    differences: dict[str, Estimate] = {}
    for name, value in first[0].items():
        if isinstance(value, np.ndarray) or name not in second[0]:
            continue
        pairs = [float(b[name]) - float(a[name]) for a, b in zip(first, second, strict=True)]
        differences[name] = t_interval(pairs)
    return differences
