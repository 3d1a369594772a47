"""The simulator set up as a textbook queue, to check it against Erlang C and Erlang A (see ``queueing``).

Calls arrive as a Poisson process at a constant rate, every call is a welfare check with every screening
answer "no" (so the real policy sends it to the field team), the team is on shift around the clock,
service on scene is exponential, there is no call-taking time, no travel, no transport and no cancellation;
without patience a call waits as long as it takes (M/M/c), with one it leaves after an exponential wait
(M/M/c+M, falling back to the police).
"""

from __future__ import annotations

import dataclasses
from datetime import date

import numpy as np

from heart.simulation.inputs import (
    MINUTES_PER_DAY,
    Demand,
    Dist,
    FieldProgram,
    Kind,
    Shift,
    SimulationInput,
)
from heart.triage.policy import Policy, default_policy_name, load_policy_by_name

THEORY_TYPE = "welfare_check"


def theory_program(policy: Policy) -> str:
    """The field team the policy sends a welfare check with every answer "no" to (Durham: CRT)."""
    for rule in policy.rules:
        program = policy.programs[rule.send]
        if program.kind == "field" and rule.types is not None and THEORY_TYPE in rule.types and not rule.any_yes:
            return rule.send
    raise ValueError(f"policy {policy.id} sends no {THEORY_TYPE} to a field team")


def around_the_clock(policy: Policy, code: str) -> Policy:
    """``policy`` with program ``code`` open all day."""
    program = dataclasses.replace(policy.programs[code], hours=((0, MINUTES_PER_DAY),), hours_text="00:00-24:00")
    return dataclasses.replace(policy, programs={**policy.programs, code: program})


def queue_input(*, calls_per_minute: float, service_minutes: float, servers: int, days: float,
                warmup_days: float = 0.1, mean_patience: float | None = None, policy: Policy | None = None,
                ) -> SimulationInput:
    """An M/M/c (or, with ``mean_patience``, M/M/c+M) queue run through the full simulator."""
    policy = policy or load_policy_by_name(default_policy_name())
    code = theory_program(policy)
    policy = around_the_clock(policy, code)
    whole_days = int(np.ceil(days + warmup_days))
    demand = Demand(
        hourly_calls=np.full(whole_days * 24, calls_per_minute * 60.0), types=(THEORY_TYPE,), type_shares=(1.0,),
        priorities=("3",), priority_shares=(1.0,), questions=policy.question_ids,
        yes=np.zeros((1, len(policy.question_ids))), unknown_answer=0.0, center=(36.0, -78.9))
    team = FieldProgram(
        code=code, shifts=(Shift(0, MINUTES_PER_DAY, servers),), homes=((36.0, -78.9),),
        max_wait=mean_patience, patience=Kind.EXPONENTIAL, on_scene=Dist(Kind.EXPONENTIAL, service_minutes),
        transport=0.0, transport_minutes=Dist(Kind.FIXED, 0.0), ems_support=0.0, ems_extra_minutes=0.0,
        cancelled=0.0)
    return SimulationInput(
        name=f"M/M/{servers}" + ("+M" if mean_patience else ""), policy=policy, start=date(2025, 1, 1),
        days=whole_days, warmup_days=warmup_days, demand=demand, field_programs=(team,), phone_programs=(),
        processing=Dist(Kind.FIXED, 0.0), travel_factor=0.0, travel_spread=0.0)
