"""The simulator against queueing theory: as an M/M/c queue it must give Erlang C's probability of waiting,
mean wait and utilization, and with exponential patience Erlang A's (M/M/c+M), within its 95 % intervals.

Each case runs the full simulator (the real policy routes every call) with enough replications for intervals
of a few per cent, and a fixed seed, so a run is the same every time.
"""

from __future__ import annotations

import pytest

from heart.simulation.queueing import erlang_a, erlang_b, erlang_c
from heart.simulation.runner import replicate, summarise
from heart.simulation.theory import queue_input


def test_the_formulas_give_the_textbook_numbers() -> None:
    # 100 calls in 30 minutes, 3 minutes each, 14 agents: a = 10 erlangs
    figures = erlang_c(100 / 30, 1 / 3, 14)
    assert figures.p_wait == pytest.approx(0.1741, abs=5e-4)
    assert figures.mean_wait * 60 == pytest.approx(7.84, abs=0.01)  # seconds
    assert figures.utilization == pytest.approx(10 / 14)
    assert erlang_b(2, 1.0) == pytest.approx(0.2)  # B(2, 1) = (1/2) / (1 + 1 + 1/2)
    # with patience Erlang A lies between the loss system and the waiting one
    patient = erlang_a(100 / 30, 1 / 3, 14, 1 / 60)
    assert patient.p_abandon > 0 and patient.mean_wait < figures.mean_wait
    assert erlang_a(100 / 30, 1 / 3, 14, 1e-9).p_wait == pytest.approx(figures.p_wait, rel=1e-3)
    with pytest.raises(ValueError, match="never settles"):
        erlang_c(2.0, 0.5, 4)


# (calls per minute, minutes of service, servers, days per replication, replications)
ERLANG_C_CASES = [
    pytest.param(100 / 30, 3.0, 14, 1.0, 12, id="100 calls per 30 min, 3 min, 14 servers"),
    pytest.param(1.0, 4.0, 5, 3.0, 12, id="1 a minute, 4 min, 5 servers"),
    pytest.param(0.25, 20.0, 6, 8.0, 12, id="15 an hour, 20 min, 6 servers"),
]


@pytest.mark.parametrize(("rate", "service", "servers", "days", "replications"), ERLANG_C_CASES)
def test_the_simulator_matches_erlang_c(rate: float, service: float, servers: int, days: float,
                                        replications: int) -> None:
    simulation = queue_input(calls_per_minute=rate, service_minutes=service, servers=servers, days=days)
    summary = summarise(replicate(simulation, replications=replications, seed=14, workers=1))
    theory = erlang_c(rate, 1 / service, servers)
    p_wait, wait = summary.estimate("CRT.p_wait"), summary.estimate("CRT.avg_wait_minutes")
    utilization = summary.estimate("CRT.utilization_pct")
    assert p_wait.contains(theory.p_wait), (p_wait, theory.p_wait)
    assert wait.contains(theory.mean_wait), (wait, theory.mean_wait)
    assert utilization.contains(100 * theory.utilization), (utilization, theory.utilization)
    assert p_wait.half_width < 0.1 * theory.p_wait  # the intervals are tight enough to mean something
    assert summary.estimate("CRT.p_gave_up").mean == 0  # no patience: nobody falls back


# (calls per minute, minutes of service, servers, mean patience, days, replications)
ERLANG_A_CASES = [
    pytest.param(100 / 30, 3.0, 10, 2.0, 1.0, 12, id="overloaded: 100 per 30 min on 10 servers, 2 min patience"),
    pytest.param(1.0, 4.0, 4, 5.0, 3.0, 12, id="1 a minute, 4 min, 4 servers, 5 min patience"),
]


@pytest.mark.parametrize(("rate", "service", "servers", "patience", "days", "replications"), ERLANG_A_CASES)
def test_the_simulator_matches_erlang_a(rate: float, service: float, servers: int, patience: float, days: float,
                                        replications: int) -> None:
    simulation = queue_input(calls_per_minute=rate, service_minutes=service, servers=servers, days=days,
                             mean_patience=patience)
    summary = summarise(replicate(simulation, replications=replications, seed=14, workers=1))
    theory = erlang_a(rate, 1 / service, servers, 1 / patience)
    checks = {"CRT.p_wait": theory.p_wait, "CRT.avg_wait_minutes": theory.mean_wait,
              "CRT.p_gave_up": theory.p_abandon, "CRT.utilization_pct": 100 * theory.utilization}
    for name, expected in checks.items():
        assert summary.estimate(name).contains(expected), (name, summary.estimate(name), expected)
    # the calls that gave up fell back to the police, as the policy says when no team is free
    assert summary.estimate("CRT.missed_no_unit").mean > 0
