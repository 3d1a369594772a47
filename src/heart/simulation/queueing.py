"""Queueing theory the simulator is checked against, from first principles.

Erlang C (M/M/c): Poisson arrivals at rate λ, exponential service at rate μ, c servers, an unbounded queue.
Erlang A (M/M/c+M): the same, and each waiting caller leaves after an exponential patience of rate θ.
Both are birth-death chains; Erlang C has the closed form through the Erlang B recursion, Erlang A is summed
from its stationary distribution π(n) ∝ Π λ / (min(k, c)·μ + max(k − c, 0)·θ) until the terms vanish.
Rates are per minute, times in minutes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class QueueFigures:
    """What an arriving caller experiences in the long run."""

    p_wait: float
    """probability that an arrival finds every server busy"""
    mean_wait: float
    """mean minutes in queue over all arrivals (served or, in Erlang A, abandoned)"""
    utilization: float
    """mean share of servers busy"""
    p_abandon: float = 0.0


def erlang_b(servers: int, load: float) -> float:
    """Blocking probability of M/M/c/c with offered load ``load`` = λ/μ (stable recursion)."""
    blocking = 1.0
    for k in range(1, servers + 1):
        blocking = load * blocking / (k + load * blocking)
    return blocking


def erlang_c(arrival_rate: float, service_rate: float, servers: int) -> QueueFigures:
    """M/M/c: probability of waiting C(c, a), mean wait C / (cμ − λ), utilization a / c."""
    load = arrival_rate / service_rate
    if load >= servers:
        raise ValueError(f"an M/M/c queue with load {load:g} on {servers} servers never settles (needs load < c)")
    blocking = erlang_b(servers, load)
    p_wait = servers * blocking / (servers - load * (1 - blocking))
    return QueueFigures(p_wait=p_wait, mean_wait=p_wait / (servers * service_rate - arrival_rate),
                        utilization=load / servers)


def erlang_a(arrival_rate: float, service_rate: float, servers: int, abandon_rate: float) -> QueueFigures:
    """M/M/c+M from the stationary distribution of its birth-death chain."""
    if abandon_rate <= 0:
        return erlang_c(arrival_rate, service_rate, servers)
    weights = [1.0]
    n = 0
    while True:
        n += 1
        death = min(n, servers) * service_rate + max(n - servers, 0) * abandon_rate
        weights.append(weights[-1] * arrival_rate / death)
        if n > servers and weights[-1] < 1e-16 * sum(weights):
            break
        if n > servers + 1_000_000:  # pragma: no cover - only for absurd rates
            raise ValueError("the Erlang A distribution does not converge for these rates")
    total = math.fsum(weights)
    p_wait = math.fsum(weights[servers:]) / total
    queue_length = math.fsum((k - servers) * w for k, w in enumerate(weights) if k > servers) / total
    p_abandon = abandon_rate * queue_length / arrival_rate
    return QueueFigures(p_wait=p_wait, mean_wait=queue_length / arrival_rate,
                        utilization=arrival_rate * (1 - p_abandon) / (servers * service_rate), p_abandon=p_abandon)
