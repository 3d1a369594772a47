"""Build the demo's history: simulate the operation, then write every row in bulk.

The rows are the ones the services would have written for the same story (calls, triage decisions,
responses, encounters, shifts and the event log), inserted with SQLAlchemy Core in large batches so a
year builds in seconds on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.orm import Session

from heart.calls.desk import desk_rules
from heart.calls.models import Call, CallSource, CallStatus, IncidentSequence
from heart.calls.numbers import continue_from
from heart.city.programs import DAYS
from heart.crosswalk.taxonomy import INCIDENT_TYPES
from heart.demo.calibration import Calibration, calibration
from heart.demo.simulate import SimCall, SimResponse, Simulation, SimUnit
from heart.demo.streams import BernoulliStream
from heart.dispatch.models import Response
from heart.encounters.models import Encounter
from heart.events import REASON_GIVEN, Event, reason_given
from heart.programs.models import Program, Shift, ShiftMember, Staff, Unit
from heart.triage.models import PolicyVersion, TriageDecision
from heart.triage.policy import Policy, default_policy_name, load_policy_by_name

BATCH = 5_000


def escalation_reason(policy: Policy, phone: str, team: str) -> str:
    """The reason written when a phone program's clinician sent a field team (Durham: "The CCD clinician talked
    with the caller and sent a Community Response Team.")."""
    name = policy.programs[team].name
    article = "an" if name[:1].lower() in "aeiou" else "a"
    return f"The {phone} clinician talked with the caller and sent {article} {name.removesuffix('s')}."


@dataclass
class HistorySummary:
    """What was built, for the command to print."""

    start: datetime
    end: datetime
    calls: int = 0
    responses: dict[str, int] = field(default_factory=dict)
    cancelled: int = 0
    phone_contacts: int = 0
    events: int = 0
    seconds: float = 0.0


def build_history(*, session: Session, seed: int, years: float, end: date | None = None,
                  policy: Policy | None = None) -> HistorySummary:
    """Simulate ``years`` of operation up to local midnight starting ``end`` (today by default) and write it."""
    began = time.perf_counter()
    policy = policy or load_policy_by_name(default_policy_name())
    cal = calibration()
    programs = {p.code: p for p in session.scalars(select(Program))}
    zone = policy.timezone
    end = end or datetime.now(zone).date()
    days = max(1, round(365 * years))
    served = set(policy.codes("field", "phone"))
    units = [SimUnit(id=u.id, call_sign=u.call_sign, program=code, home=(u.home_lat or cal.CITY_CENTER[0],
                                                                         u.home_lon or cal.CITY_CENTER[1]),
                     position=(u.home_lat or cal.CITY_CENTER[0], u.home_lon or cal.CITY_CENTER[1]))
             for u in session.scalars(select(Unit).order_by(Unit.call_sign))
             if (code := _code(programs, u.program_id)) in served]
    simulation = Simulation(seed=seed, start=end - timedelta(days=days), days=days, zone=zone, units=units,
                            max_wait_minutes={code: p.max_wait_minutes for code, p in programs.items()},
                            policy=policy, cal=cal)
    history = simulation.run()
    writer = _Writer(session, programs, random.Random(seed), policy, seed, cal)
    writer.remember_policy(history.start)
    summary = HistorySummary(start=history.start, end=history.end)
    for call in history.calls:
        writer.add_call(call)
    writer.add_shifts(session, end - timedelta(days=days), days)
    writer.flush(final=True)
    summary.calls = len(history.calls)
    for call in history.calls:
        summary.phone_contacts += call.phone is not None
        for response in call.responses:
            if response.cancelled is not None:
                summary.cancelled += 1
            else:
                summary.responses[response.program] = summary.responses.get(response.program, 0) + 1
    summary.events = writer.counts["events"]
    summary.seconds = time.perf_counter() - began
    return summary


def _code(programs: dict[str, Program], program_id: int) -> str:
    return next(code for code, program in programs.items() if program.id == program_id)


def _at(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


class _Writer:
    """Turns simulated calls into rows with ids of their own and inserts them in batches."""

    TABLES: tuple[Table, ...] = (Call.__table__, TriageDecision.__table__, Response.__table__,  # type: ignore[assignment]
                                 Encounter.__table__, Shift.__table__, ShiftMember.__table__, Event.__table__)

    def __init__(self, session: Session, programs: dict[str, Program], rng: random.Random, policy: Policy,
                 seed: int, cal: Calibration) -> None:
        self.session, self.programs, self.rng, self.policy, self.cal = session, programs, rng, policy, cal
        self.handed_off = frozenset(policy.codes("external"))
        self.rows: dict[str, list[dict[str, Any]]] = {table.name: [] for table in self.TABLES}
        self.next_id = {table.name: (session.scalar(select(func.max(table.c.id))) or 0) + 1 for table in self.TABLES}
        self.counts = {table.name: 0 for table in self.TABLES}
        # Its own stream, so adding the question moved none of the other draws of a seeded demo.
        self.felt_safe = BernoulliStream(np.random.default_rng([seed, 13]), cal.TEAM_FELT_SAFE)
        # Incident numbers in the city's format, counted per year from where each year's count stands.
        self.numbering = desk_rules().incident_number
        self.numbers: dict[int, int] = {}

    def incident_number(self, received: datetime) -> str:
        year = received.astimezone(self.numbering.zone).year
        if year not in self.numbers:
            self.numbers[year] = self.session.scalar(
                select(IncidentSequence.last).where(IncidentSequence.year == year)) or 0
        self.numbers[year] += 1
        return self.numbering.number(year, self.numbers[year])

    def row(self, table: str, **values: Any) -> int:
        identity = self.next_id[table]
        self.next_id[table] += 1
        self.rows[table].append({"id": identity, **values})
        if len(self.rows[table]) >= BATCH:
            self.flush()
        return identity

    def event(self, kind: str, subject_type: str, subject_id: int, at: datetime | None, call_id: int | None,
              before: dict[str, Any] | None = None, after: dict[str, Any] | None = None) -> None:
        self.row("events", at=at, actor_id=None, kind=kind, subject_type=subject_type, subject_id=subject_id,
                 call_id=call_id, before=before, after=after)

    def remember_policy(self, at: datetime) -> None:
        exists = self.session.scalar(select(PolicyVersion.id).where(PolicyVersion.policy_id == self.policy.id,
                                                                    PolicyVersion.version == self.policy.version))
        if exists is None:
            self.session.add(PolicyVersion(policy_id=self.policy.id, version=self.policy.version,
                                           sha256=hashlib.sha256(self.policy.text.encode()).hexdigest(),
                                           document=self.policy.text, loaded_at=at))
            self.session.flush()

    def add_call(self, call: SimCall) -> None:
        assert call.decision is not None
        received = _at(call.received)
        decision = call.decision
        kind = INCIDENT_TYPES.get(call.incident_type)
        status, closed = self.outcome(call)
        call_id = self.row(
            "calls", external_id=f"{self.cal.demo.call_number_prefix}{received.year % 100:02d}-{call.number:07d}"
            if received else None,
            incident_number=self.incident_number(received) if received else None,
            source=CallSource(call.source), received_at=received,
            nature_code=self.cal.NATURE_CODES[call.incident_type],
            incident_type=call.incident_type, category=kind.category if kind else None, priority=call.priority,
            address=call.address, lat=round(call.location[0], 5), lon=round(call.location[1], 5), beat=call.beat,
            screening=call.screening, summary=None, status=status, pathway=decision.pathway if call.escalated_at
            is None else call.responses[0].program, created_by_id=None, closed_at=closed)
        self.event("call.received", "call", call_id, received, call_id,
                   after={"source": call.source, "nature_code": self.cal.NATURE_CODES[call.incident_type],
                          "incident_type": call.incident_type, "priority": call.priority, "screening": call.screening})
        reasons = [{"rule": r.rule, "text": r.text} for r in decision.reasons]
        handed_off = decision.pathway in self.handed_off
        decision_id = self.row(
            "triage_decisions", call_id=call_id, policy_id=decision.policy, policy_version=decision.version,
            pathway=decision.pathway, recommended_pathway=decision.pathway, reasons=reasons,
            unanswered=list(decision.unanswered), fallback=decision.fallback_reason, decided_at=received,
            decided_by_id=None, override_reason=None,
            eligible_pathway=decision.fallback_program or decision.pathway,
            excluded_pathway=decision.excluded_pathway, exclusions=list(decision.exclusions))
        self.event("triage.decided", "triage_decision", decision_id, received, call_id,
                   before={"pathway": None, "status": "open"},
                   after={"pathway": decision.pathway, "status": "triaged",
                          "policy": f"{decision.policy} v{decision.version}", "override_reason": None})
        if handed_off:  # the call-taker sent it on at once (a decision closes nothing by itself)
            self.event("call.sent_to_agency", "call", call_id, received, call_id, before={"status": "triaged"},
                       after={"status": "resolved", "pathway": decision.pathway})
        if call.phone is not None:
            self.add_phone_contact(call, call_id, reasons)
        for response in call.responses:
            self.add_response(call_id, response)
        if not handed_off and closed is not None:
            before = "assigned" if call.responses else "triaged"
            self.event(f"call.{status.value}", "call", call_id, closed, call_id, before={"status": before},
                       after={"status": status.value})

    def outcome(self, call: SimCall) -> tuple[CallStatus, datetime | None]:
        assert call.decision is not None
        if call.decision.pathway in self.handed_off:
            return CallStatus.RESOLVED, _at(call.received)
        if call.responses:
            last = call.responses[-1]
            if last.cancelled is not None:
                return CallStatus.CANCELLED, _at(last.cancelled)
            return CallStatus.RESOLVED, _at(last.cleared)
        if call.phone is not None:
            return CallStatus.RESOLVED, _at(call.phone[2])
        return CallStatus.RESOLVED, _at(call.received)

    def add_phone_contact(self, call: SimCall, call_id: int, reasons: list[dict[str, str]]) -> None:
        assert call.phone is not None and call.decision is not None
        _, _, end = call.phone
        ended = _at(end)
        phone = call.decision.pathway
        self.add_encounter(call_id, None, phone, ended)
        if call.escalated_at is not None:
            team = call.responses[0].program
            decision_id = self.row(
                "triage_decisions", call_id=call_id, policy_id=call.decision.policy,
                policy_version=call.decision.version, pathway=team, recommended_pathway=call.decision.pathway,
                reasons=reasons, unanswered=list(call.decision.unanswered), fallback=call.decision.fallback_reason,
                decided_at=ended, decided_by_id=None, override_reason=escalation_reason(self.policy, phone, team),
                eligible_pathway=call.decision.fallback_program or call.decision.pathway,
                excluded_pathway=call.decision.excluded_pathway, exclusions=list(call.decision.exclusions))
            self.event("triage.overridden", "triage_decision", decision_id, ended, call_id,
                       before={"pathway": phone, "status": "triaged"},
                       after={"pathway": team, "status": "triaged", "override_reason": REASON_GIVEN,
                              "policy": f"{call.decision.policy} v{call.decision.version}"})

    def add_response(self, call_id: int, r: SimResponse) -> None:
        program_id = self.programs[r.program].id
        values: dict[str, Any] = {"call_id": call_id, "unit_id": r.unit.id, "program_id": program_id,
                  "dispatched_at": _at(r.dispatched), "en_route_at": _at(r.en_route), "on_scene_at": _at(r.on_scene),
                  "transport_started_at": _at(r.transport_started), "cleared_at": _at(r.cleared),
                  "cancelled_at": _at(r.cancelled), "cancel_reason": r.cancel_reason, "transported": r.transported,
                  "transport_destination": r.destination, "pd_backup_for_safety": r.pd_backup_for_safety,
                  "ems_support": r.ems_support, "disposition": r.disposition, "dispatched_by_id": None,
                  "team_felt_safe": None if r.cleared is None else self.felt_safe()}
        response_id = self.row("responses", **values)
        self.event("response.dispatched", "response", response_id, values["dispatched_at"], call_id,
                   before={"unit_status": "available", "call_status": "triaged"},
                   after={"unit_id": r.unit.id, "call_sign": r.unit.call_sign, "unit_status": "dispatched"})
        self.event("response.en_route", "response", response_id, values["en_route_at"], call_id,
                   after={"unit_status": "en_route"})
        if r.cancelled is not None:
            self.event("response.cancelled", "response", response_id, values["cancelled_at"], call_id,
                       after={"reason": reason_given(r.cancel_reason), "call_still_needs_response": False})
            return
        self.event("response.on_scene", "response", response_id, values["on_scene_at"], call_id,
                   after={"unit_status": "on_scene"})
        if r.transport_started is not None:
            self.event("response.transporting", "response", response_id, values["transport_started_at"], call_id,
                       after={"unit_status": "transporting"})
        self.event("response.cleared", "response", response_id, values["cleared_at"], call_id,
                   after={"transported": r.transported, "pd_backup_for_safety": r.pd_backup_for_safety,
                          "ems_support": r.ems_support, "disposition": r.disposition})
        self.add_encounter(call_id, response_id, r.program, values["cleared_at"])

    def add_encounter(self, call_id: int, response_id: int | None, program: str, at: datetime | None) -> None:
        needs = sorted(self.rng.sample(self.cal.NEEDS, self.rng.randint(1, 3)))
        services = sorted(self.rng.sample(self.cal.SERVICES, self.rng.randint(1, 3)))
        consent = self.rng.random() < self.cal.CONSENT_TO_FOLLOW_UP
        encounter_id = self.row("encounters", call_id=call_id, response_id=response_id,
                                program_id=self.programs[program].id, needs=needs, services=services,
                                consent_to_follow_up=consent, created_at=at, created_by_id=None)
        self.event("encounter.opened", "encounter", encounter_id, at, call_id,
                   after={"needs": needs, "services": services, "consent_to_follow_up": consent})

    def add_shifts(self, session: Session, start: date, days: int) -> None:
        """Every unit on duty through its program's hours each day, with its crew."""
        crews = _crews(session, self.programs)
        for unit in session.scalars(select(Unit).order_by(Unit.call_sign)):
            program = next(p for p in self.programs.values() if p.id == unit.program_id)
            zone = ZoneInfo(program.timezone)
            for day in (start + timedelta(days=n) for n in range(days)):
                for opens, closes in program.hours.get(DAYS[day.weekday()], []):
                    begins, ends = _local(day, opens, zone), _local(day, closes, zone)
                    shift_id = self.row("shifts", unit_id=unit.id, starts_at=begins, ends_at=ends)
                    for staff_id, role in crews.get(unit.id, []):
                        self.row("shift_members", shift_id=shift_id, staff_id=staff_id, role=role)
                    self.event("unit.on_duty", "unit", unit.id, begins, None, before={"status": "off_duty"},
                               after={"status": "available", "shift_id": shift_id, "ends_at": ends.isoformat()})
                    self.event("unit.off_duty", "unit", unit.id, ends, None, before={"status": "available"},
                               after={"status": "off_duty"})

    def flush(self, final: bool = False) -> None:
        # parents before children, so foreign keys hold at every batch
        for table in self.TABLES:
            rows = self.rows[table.name]
            if rows:
                for chunk in _chunks(rows, BATCH):
                    self.session.execute(insert(table), chunk)
                self.counts[table.name] += len(rows)
                self.rows[table.name] = []
        if final:
            for year, last in self.numbers.items():
                continue_from(session=self.session, year=year, last=last)
        if final and self.session.get_bind().dialect.name == "postgresql":
            for table in self.TABLES:  # explicit ids: move each sequence past them
                self.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                          f"(SELECT coalesce(max(id), 1) FROM {table.name}))"))


def _crews(session: Session, programs: dict[str, Program]) -> dict[int, list[tuple[int, str]]]:
    """Each unit's crew: the n-th staff member of each role in its program rides on its n-th unit."""
    crews: dict[int, list[tuple[int, str]]] = {}
    for program in programs.values():
        units = list(session.scalars(select(Unit.id).where(Unit.program_id == program.id).order_by(Unit.call_sign)))
        for role in program.crew_roles:
            staff = list(session.scalars(select(Staff.id).where(Staff.program_id == program.id, Staff.role == role)
                                         .order_by(Staff.id)))
            for unit_id, staff_id in zip(units, staff, strict=False):
                crews.setdefault(unit_id, []).append((staff_id, role))
    return crews


def _local(day: date, clock: str, zone: ZoneInfo) -> datetime:
    hours, minutes = (int(part) for part in clock.split(":"))
    return (datetime(day.year, day.month, day.day, tzinfo=zone) + timedelta(hours=hours, minutes=minutes)
            ).astimezone(UTC)


def _chunks(rows: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for index in range(0, len(rows), size):
        yield rows[index:index + size]

