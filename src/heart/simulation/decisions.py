"""The policy's decisions for the simulator, memoised.

``heart.triage.engine.decide`` depends on the time only through which programs are open, so the key
(call facts, open programs, available programs) gives the same decision every time it recurs; each key is
decided once per process and kept across the replications a worker runs.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from heart.simulation.demand import decode_facts
from heart.simulation.inputs import MINUTES_PER_DAY, SimulationInput
from heart.triage.engine import NO_UNIT_AVAILABLE, PROGRAM_CLOSED, CallFacts, decide

CLOSED, NO_UNIT = 1, 2
"""Why an eligible call was missed (``missed`` array)."""
_REASONS = {PROGRAM_CLOSED: CLOSED, NO_UNIT_AVAILABLE: NO_UNIT}
_DECISION_DAY = datetime(2025, 1, 15)  # a day without a daylight-saving change: clock = minute of the day


class DecisionTable:
    """Policy decisions by (facts, open programs, available programs), computed once each (per process)."""

    def __init__(self, sim: SimulationInput) -> None:
        self.sim = sim
        self.policy = sim.policy
        self.codes = tuple(sim.program_codes())
        self.index = {code: i for i, code in enumerate(self.codes)}
        self.gated = tuple(code for code, program in self.policy.programs.items() if not program.always_open)
        self.cache: dict[tuple[int, int, int], tuple[int, int, int]] = {}
        zone = self.policy.timezone
        self.midnight = _DECISION_DAY.replace(tzinfo=zone)
        self.open_by_minute = [self._open_mask(minute) for minute in range(MINUTES_PER_DAY)]

    def _open_mask(self, minute: int) -> int:
        mask = 0
        for bit, code in enumerate(self.gated):
            if self.policy.programs[code].is_open(minute):
                mask |= 1 << bit
        return mask

    def bit(self, code: str) -> int:
        return 1 << self.gated.index(code) if code in self.gated else 0

    def decide(self, facts: int, minute: int, available: int) -> tuple[int, int, int]:
        """(pathway, eligible program, reason it was passed over): program indexes, -1 for others."""
        key = (facts, self.open_by_minute[minute], available)
        found = self.cache.get(key)
        if found is None:
            incident_type, priority, screening = decode_facts(self.sim.demand, facts)
            availability = {code: bool(available & (1 << bit)) for bit, code in enumerate(self.gated)}
            at = self.midnight + timedelta(minutes=minute)
            decision = decide(CallFacts(incident_type=incident_type, priority=priority, screening=screening),
                              self.policy, at, availability)
            eligible = decision.fallback_program or decision.pathway
            found = (self.index.get(decision.pathway, -1), self.index.get(eligible, -1),
                     _REASONS.get(decision.fallback_reason or "", 0))
            self.cache[key] = found
        return found


_TABLES: dict[int, DecisionTable] = {}


def decision_table(sim: SimulationInput) -> DecisionTable:
    """The process's decision table for ``sim`` (kept across the replications a worker runs)."""
    table = _TABLES.get(id(sim))
    if table is None or table.sim is not sim:
        _TABLES.clear()
        table = _TABLES[id(sim)] = DecisionTable(sim)
    return table
