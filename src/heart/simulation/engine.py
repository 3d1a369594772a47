"""The discrete-event simulator: one replication of a scenario, event by event (a heap of timed events).

A call arrives and is triaged by the city's policy (``heart.triage.engine.decide``) given which programs are
open and have a team on shift. A field call is ready for dispatch after the call-taker's processing time; the
free team that the board's travel-time estimator says is fastest goes, or the call waits in the program's
queue (oldest first) up to the maximum wait, then falls back to where the policy sends it next with no team
of that program free ("no unit available"). Teams work daily shifts; a team on a call when its shift ends
finishes the call (overtime). On scene, transport and EMS times follow the city's model; an idle team drives
home. A phone program's clinicians (CCD) take calls the same way and may send a field team afterwards.

Decisions come from ``heart.simulation.decisions`` (the policy's ``decide``, memoised).
"""

from __future__ import annotations

import heapq
import itertools
import math
import time
from collections import deque
from typing import Any

import numpy as np

from heart.dispatch.recommend import Point
from heart.simulation.decisions import NO_UNIT, DecisionTable, decision_table
from heart.simulation.demand import CallBatch, draw_calls
from heart.simulation.inputs import MINUTES_PER_DAY, Kind, SimulationInput
from heart.simulation.stats import RunStats, summarise_run

# event kinds, in the order they are handled when they fall on the same minute
_SHIFT_END, _SHIFT_START, _CLEAR, _PHONE_END, _READY, _PHONE_READY, _GIVE_UP = range(7)

def run_replication(sim: SimulationInput, seed: int | np.random.SeedSequence) -> RunStats:
    """Simulate the scenario once with ``seed``; the figures of the calls received after the warm-up."""
    began = time.process_time()
    rng = np.random.default_rng(seed)
    calls = draw_calls(sim.demand, rng)
    replication = _Replication(sim, decision_table(sim), calls, rng)
    replication.run()
    stats = summarise_run(sim, calls, replication.record())
    stats["cpu_seconds"] = time.process_time() - began  # what the replication cost, wherever it ran
    return stats


class _Replication:
    """State of one run. Units (teams and clinicians) are indexes into parallel lists, for speed."""

    def __init__(self, sim: SimulationInput, table: DecisionTable, calls: CallBatch, rng: np.random.Generator):
        self.sim, self.table, self.calls = sim, table, calls
        n = len(calls)
        self.received = calls.received.tolist()
        self.facts = calls.facts.tolist()
        self.lat, self.lon = calls.lat.tolist(), calls.lon.tolist()
        self.heap: list[tuple[float, int, int, int, int]] = []
        self.seq = itertools.count()
        codes = table.codes
        self.field = {table.index[p.code]: p for p in sim.field_programs}
        self.phone = {table.index[p.code]: p for p in sim.phone_programs}
        self.bits = [table.bit(code) for code in codes]
        self.warmup, self.horizon = sim.warmup, sim.horizon
        self.travels = sim.travel_factor > 0
        self.minutes = sim.estimator.minutes
        self._draw(rng, n)
        # per call
        self.eligible = [-1] * n
        self.missed = [0] * n
        self.answered_by = [-1] * n
        self.waiting = [-1] * n
        self.ready_at = [math.nan] * n
        self.first_ready = [-1] * n
        self.queued = [False] * n
        self.wait = [math.nan] * n
        self.gave_up = [-1] * n
        self.response_program = [-1] * n
        self.dispatched_at = [math.nan] * n
        self.to_scene = [math.nan] * n
        self.on_scene_at = [math.nan] * n
        self.cancelled = [False] * n
        self.escalated = [False] * n
        # per program
        count = len(codes)
        self.queues: list[deque[int]] = [deque() for _ in codes]
        self.idle: list[list[int]] = [[] for _ in codes]
        self.on_duty = [0] * count
        self.duty_mask = 0
        self.busy_minutes = [0.0] * count
        self.overtime_minutes = [0.0] * count
        self.responses = [0] * count
        # per unit
        self.unit_program: list[int] = []
        self.unit_home: list[Point] = []
        self.unit_position: list[Point] = []
        self.unit_free_since: list[float] = []
        self.unit_home_trip: list[float] = []
        self.unit_busy: list[bool] = []
        self.unit_leaving: list[float] = []  # NaN, or when the shift ended while on a call
        self.unit_duty: list[bool] = []
        self.shift_units: list[tuple[int, int, list[int]]] = []  # (program, shift index, units)
        self._make_units()

    def _draw(self, rng: np.random.Generator, n: int) -> None:
        sim = self.sim
        self.processing = sim.processing.sample(rng, n).tolist()
        if sim.travel_factor > 0:
            sigma = sim.travel_spread
            noise = sim.travel_factor * np.exp(-sigma**2 / 2 + sigma * rng.standard_normal(n))
        else:
            noise = np.zeros(n)
        self.travel_noise = noise.tolist()
        u = rng.random((4, n))  # cancel, transport, EMS, escalation
        self.escalation_draw = u[3].tolist()
        self.cancel_share = rng.uniform(0.2, 0.9, n).tolist()
        normal = rng.standard_normal((3, n))  # on scene, transport, phone (lognormal)
        expo = rng.standard_exponential((4, n))  # on scene, transport, phone, patience
        self.patience_draw = expo[3].tolist()
        # What each call's response would be with each field program, drawn at once: whether it is called off,
        # and otherwise the minutes from arrival on scene until the team is free (on scene, EMS wait, transport).
        self.cancels: dict[int, list[bool]] = {}
        self.busy_after_arrival: dict[int, list[float]] = {}
        self.transports: dict[int, list[bool]] = {}
        for index, spec in self.field.items():
            minutes = _draws(spec.on_scene, normal[0], expo[0])
            minutes = minutes + np.where(u[2] < spec.ems_support, spec.ems_extra_minutes, 0.0)
            transported = u[1] < spec.transport
            minutes = minutes + np.where(transported, _draws(spec.transport_minutes, normal[1], expo[1]), 0.0)
            self.cancels[index] = (u[0] < spec.cancelled).tolist()
            self.busy_after_arrival[index] = minutes.tolist()
            self.transports[index] = transported.tolist()
        self.phone_minutes = {index: _draws(spec.minutes, normal[2], expo[2]).tolist()
                              for index, spec in self.phone.items()}
        facilities = self.sim.demand.facilities
        self.facility_points = tuple(Point(lat, lon) for lat, lon, _ in facilities)
        if facilities:
            weights = np.asarray([f[2] for f in facilities], dtype=float)
            self.facility = rng.choice(len(facilities), size=n, p=weights / weights.sum()).tolist()
        else:
            self.facility = []

    def _make_units(self) -> None:
        for index, program in self.field.items():
            team = 0  # homes are handed out across the program's shifts, so overlapping shifts spread out
            for shift_index, shift in enumerate(program.shifts):
                units = []
                for _ in range(shift.teams):
                    lat, lon = program.homes[team % len(program.homes)] if program.homes else self.sim.demand.center
                    units.append(self._new_unit(index, Point(lat, lon)))
                    team += 1
                self.shift_units.append((index, shift_index, units))
        for index, phone in self.phone.items():
            for shift_index, shift in enumerate(phone.shifts):
                units = [self._new_unit(index, Point(*self.sim.demand.center)) for _ in range(shift.teams)]
                self.shift_units.append((index, shift_index, units))
        # each shift's first start; a start schedules its own end and the next day's start (a small heap)
        self.group_shift = [(self.field[index].shifts if index in self.field else self.phone[index].shifts)[shift]
                            for index, shift, _ in self.shift_units]
        for group, shift in enumerate(self.group_shift):
            self._push(shift.start, _SHIFT_START, group, 0)

    def _new_unit(self, program: int, home: Point) -> int:
        self.unit_program.append(program)
        self.unit_home.append(home)
        self.unit_position.append(home)
        self.unit_free_since.append(0.0)
        self.unit_home_trip.append(0.0)
        self.unit_busy.append(False)
        self.unit_leaving.append(math.nan)
        self.unit_duty.append(False)
        return len(self.unit_program) - 1

    def _push(self, at: float, kind: int, a: int, b: int = 0) -> None:
        heapq.heappush(self.heap, (at, kind, next(self.seq), a, b))

    # --- the loop ------------------------------------------------------------------------------------------

    def run(self) -> None:
        """Arrivals in order, each after the events due before it; then the events until the queues empty."""
        heap, pop, push, seq = self.heap, heapq.heappop, heapq.heappush, self.seq
        handlers = (self._shift_end, self._shift_start, self._clear, self._phone_end, self._ready,
                    self._phone_ready, self._give_up)
        table, cache, open_by_minute = self.table, self.table.cache, self.table.open_by_minute
        facts, processing, eligible, missed = self.facts, self.processing, self.eligible, self.missed
        field, phone = self.field, self.phone
        answer_after = {index: program.answer_after_minutes for index, program in phone.items()}
        for call, at in enumerate(self.received):
            while heap and heap[0][0] <= at:
                event = pop(heap)
                handlers[event[1]](event[0], event[3], event[4])
            minute = int(at) % MINUTES_PER_DAY
            decided = cache.get((facts[call], open_by_minute[minute], self.duty_mask))
            if decided is None:
                decided = table.decide(facts[call], minute, self.duty_mask)
            pathway, first_choice, reason = decided
            eligible[call] = first_choice
            if first_choice >= 0 and pathway != first_choice:
                missed[call] = reason
            if pathway in field:
                push(heap, (at + processing[call], _READY, next(seq), call, pathway))
            elif pathway in phone:
                push(heap, (at + answer_after[pathway], _PHONE_READY, next(seq), call, pathway))
        stop = self.sim.horizon + MINUTES_PER_DAY
        while heap:
            event = pop(heap)
            if event[0] > stop:
                break
            handlers[event[1]](event[0], event[3], event[4])

    def _route(self, at: float, call: int, pathway: int, delay: float) -> None:
        if pathway in self.field:
            if delay > 0:
                self._push(at + delay, _READY, call, pathway)
            else:
                self._ready(at, call, pathway)
        elif pathway in self.phone:
            self._push(at + self.phone[pathway].answer_after_minutes, _PHONE_READY, call, pathway)

    def _patience(self, call: int, max_wait: float, patience: Kind) -> float:
        return max_wait * self.patience_draw[call] if patience == Kind.EXPONENTIAL else max_wait

    def _ready(self, at: float, call: int, program: int) -> None:
        self.ready_at[call] = at
        if self.first_ready[call] < 0:
            self.first_ready[call] = program
        idle = self.idle[program]
        if idle:
            self._dispatch(at, call, program, *self._fastest(at, idle, call))
            return
        self.queued[call] = True
        self.waiting[call] = program
        self.queues[program].append(call)
        spec = self.field[program]
        if spec.max_wait is not None:
            self._push(at + self._patience(call, spec.max_wait, spec.patience), _GIVE_UP, call, program)

    def _fastest(self, at: float, idle: list[int], call: int) -> tuple[int, Point, Point, float]:
        """The idle unit the board would recommend (least estimated minutes to the call; ties: longest idle),
        where it starts from, where the call is, and the estimate."""
        if not self.travels:
            home = self.unit_home[idle[0]]
            return idle[0], home, home, 0.0
        minutes, destination = self.minutes, Point(self.lat[call], self.lon[call])
        best, best_origin, best_minutes = -1, destination, math.inf
        positions, homes = self.unit_position, self.unit_home
        for unit in idle:
            origin = positions[unit]
            if origin is not homes[unit]:
                origin = self._position(unit, at)
            estimate = minutes(origin, destination)
            if estimate < best_minutes:
                best, best_origin, best_minutes = unit, origin, estimate
        return best, best_origin, destination, best_minutes

    def _position(self, unit: int, at: float) -> Point:
        """Where an idle unit is: on its way home from its last call, or home."""
        position, home, trip = self.unit_position[unit], self.unit_home[unit], self.unit_home_trip[unit]
        if position is home:
            return position
        if trip < 0:  # the trip home is estimated the first time it matters
            trip = self.unit_home_trip[unit] = self.minutes(position, home)
        if trip == 0:
            return position
        share = (at - self.unit_free_since[unit]) / trip
        if share >= 1:
            self.unit_position[unit] = home
            return home
        return Point(position.lat + (home.lat - position.lat) * share, position.lon + (home.lon - position.lon) * share)

    def _dispatch(self, at: float, call: int, program: int, unit: int, origin: Point, destination: Point,
                  estimate: float) -> None:
        self.idle[program].remove(unit)
        self.unit_busy[unit] = True
        if self.answered_by[call] < 0:
            self.answered_by[call] = program
        self.response_program[call] = program
        self.dispatched_at[call] = at
        self.wait[call] = at - self.ready_at[call]
        self.responses[program] += 1
        travel = estimate * self.travel_noise[call]
        if self.cancels[program][call]:
            share = self.cancel_share[call]
            free = at + share * travel
            self.cancelled[call] = True
            end_position = Point(origin.lat + (destination.lat - origin.lat) * share,
                                 origin.lon + (destination.lon - origin.lon) * share)
        else:
            arrived = at + travel
            self.to_scene[call] = travel
            self.on_scene_at[call] = arrived
            free = arrived + self.busy_after_arrival[program][call]
            if self.transports[program][call] and self.facility:
                end_position = self.facility_points[self.facility[call]]
            else:
                end_position = destination
        low, high = max(at, self.warmup), min(free, self.horizon)
        if high > low:
            self.busy_minutes[program] += high - low
        self.unit_position[unit] = end_position
        heapq.heappush(self.heap, (free, _CLEAR, next(self.seq), unit, call))

    def _busy(self, program: int, start: float, end: float) -> None:
        low, high = max(start, self.warmup), min(end, self.horizon)
        if high > low:
            self.busy_minutes[program] += high - low

    def _clear(self, at: float, unit: int, _: int) -> None:
        program = self.unit_program[unit]
        self.unit_busy[unit] = False
        if self._goes_home_off_duty(at, unit, program):
            return
        self.unit_free_since[unit] = at
        self.unit_home_trip[unit] = -1.0
        self.idle[program].append(unit)
        self._take_next(at, program)

    def _goes_home_off_duty(self, at: float, unit: int, program: int) -> bool:
        """A unit whose shift ended during its call: the extra minutes are overtime, and it goes off duty."""
        ended = self.unit_leaving[unit]
        if ended != ended:  # NaN: still on shift
            return False
        low, high = max(ended, self.warmup), min(at, self.horizon)
        if high > low:
            self.overtime_minutes[program] += high - low
        self.unit_leaving[unit] = math.nan
        self.unit_duty[unit] = False
        self._off_duty(program)
        return True

    def _take_next(self, at: float, program: int) -> None:
        queue, idle = self.queues[program], self.idle[program]
        while queue and idle:
            call = queue.popleft()
            if self.waiting[call] != program:
                continue  # gave up already
            self.waiting[call] = -1
            if program in self.phone:
                self._talk(at, call, idle[0], program)
            else:
                self._dispatch(at, call, program, *self._fastest(at, idle, call))

    def _give_up(self, at: float, call: int, program: int) -> None:
        """The call waited the maximum wait: the policy's next pathway, with no team of this program free."""
        if self.waiting[call] != program:
            return
        self.waiting[call] = -1
        self.gave_up[call] = program
        self.wait[call] = at - self.ready_at[call]
        if self.eligible[call] == program:
            self.missed[call] = NO_UNIT
        available = 0
        for index, idle in enumerate(self.idle):
            if idle and index != program:
                available |= self.bits[index]
        pathway, _, _ = self.table.decide(self.facts[call], int(at) % MINUTES_PER_DAY, available)
        if pathway != program:
            self._route(at, call, pathway, 0.0)

    # --- shifts --------------------------------------------------------------------------------------------

    def _shift_start(self, at: float, group: int, day: int) -> None:
        shift = self.group_shift[group]
        self._push(day * MINUTES_PER_DAY + shift.end, _SHIFT_END, group, day)
        if (day + 1) * MINUTES_PER_DAY + shift.start <= self.horizon:
            self._push((day + 1) * MINUTES_PER_DAY + shift.start, _SHIFT_START, group, day + 1)
        program, _, units = self.shift_units[group]
        for unit in units:
            if self.unit_busy[unit] and self.unit_leaving[unit] == self.unit_leaving[unit]:
                self.unit_leaving[unit] = math.nan  # the next shift begins as the last ends: no overtime
                continue
            if self.unit_duty[unit]:
                continue
            self.unit_duty[unit] = True
            self.unit_position[unit] = self.unit_home[unit]
            self.unit_home_trip[unit] = 0.0
            self.unit_free_since[unit] = at
            self.idle[program].append(unit)
            self._on_duty(program)
        self._take_next(at, program)

    def _shift_end(self, at: float, group: int, _: int) -> None:
        program, _, units = self.shift_units[group]
        for unit in units:
            if not self.unit_duty[unit]:
                continue
            if self.unit_busy[unit]:
                self.unit_leaving[unit] = at
                continue
            self.idle[program].remove(unit)
            self.unit_duty[unit] = False
            self._off_duty(program)

    def _on_duty(self, program: int) -> None:
        self.on_duty[program] += 1
        self.duty_mask |= self.bits[program]

    def _off_duty(self, program: int) -> None:
        self.on_duty[program] -= 1
        if not self.on_duty[program]:
            self.duty_mask &= ~self.bits[program]

    # --- phone ---------------------------------------------------------------------------------------------

    def _phone_ready(self, at: float, call: int, program: int) -> None:
        self.ready_at[call] = at
        if self.first_ready[call] < 0:
            self.first_ready[call] = program
        idle = self.idle[program]
        if idle:
            self._talk(at, call, idle[0], program)
            return
        self.queued[call] = True
        self.waiting[call] = program
        self.queues[program].append(call)
        spec = self.phone[program]
        if spec.max_wait is not None:
            self._push(at + self._patience(call, spec.max_wait, spec.patience), _GIVE_UP, call, program)

    def _talk(self, at: float, call: int, unit: int, program: int) -> None:
        self.idle[program].remove(unit)
        self.unit_busy[unit] = True
        if self.answered_by[call] < 0:
            self.answered_by[call] = program
        self.wait[call] = at - self.ready_at[call]
        self.responses[program] += 1
        end = at + self.phone_minutes[program][call]
        self._busy(program, at, end)
        self._push(end, _PHONE_END, unit, call)

    def _phone_end(self, at: float, unit: int, call: int) -> None:
        program = self.unit_program[unit]
        spec = self.phone[program]
        target = self.table.index.get(spec.escalates_to or "", -1)
        if target in self.field and self.escalation_draw[call] < spec.escalates:
            policy_program = self.sim.policy.programs.get(spec.escalates_to or "")
            if policy_program is not None and policy_program.is_open(int(at) % MINUTES_PER_DAY) \
                    and self.on_duty[target]:
                self.escalated[call] = True
                self._push(at + 1.0, _READY, call, target)
        self._clear(at, unit, call)

    # --- what the run produced -----------------------------------------------------------------------------

    def record(self) -> dict[str, Any]:
        return {
            "eligible": self.eligible, "missed": self.missed, "answered_by": self.answered_by,
            "first_ready": self.first_ready, "queued": self.queued, "wait": self.wait, "gave_up": self.gave_up,
            "response_program": self.response_program, "dispatched_at": self.dispatched_at,
            "to_scene": self.to_scene, "on_scene_at": self.on_scene_at, "cancelled": self.cancelled,
            "escalated": self.escalated, "busy_minutes": self.busy_minutes,
            "overtime_minutes": self.overtime_minutes,
        }


def _draws(dist: Any, normal: np.ndarray, exponential: np.ndarray) -> np.ndarray:
    """Draws of ``dist`` from pre-drawn standard normal and exponential variates."""
    if dist.kind == Kind.EXPONENTIAL:
        return np.asarray(dist.mean * exponential)
    if dist.kind == Kind.FIXED or dist.mean <= 0:
        return np.full(len(normal), max(dist.mean, 0.0))
    return np.asarray(np.exp(math.log(dist.mean) - dist.spread * dist.spread / 2 + dist.spread * normal))
