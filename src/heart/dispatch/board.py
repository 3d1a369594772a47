"""What the dispatch board shows, assembled in a dozen set-based queries (no HTTP, no HTML here).

The same ``Board`` feeds the first page load and every live re-render, so a dispatcher never sees two
versions of the truth.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from heart.auth.models import User
from heart.calls.desk import desk_rules
from heart.calls.models import Call, CallNote, CallStatus
from heart.calls.notes import notes_for_calls
from heart.dispatch.alerts import open_alerts
from heart.dispatch.models import Alert, AlertKind, Response
from heart.dispatch.queue import (
    FallbackCheck,
    QueuedCall,
    call_point,
    check_fallback,
    outside_agency_calls,
    queued_calls,
)
from heart.dispatch.recommend import (
    DEFAULT_ESTIMATOR,
    BusyUnit,
    ExpectedWait,
    Recommendation,
    TravelTimeEstimator,
    expected_wait,
    rank_units,
    typical_on_scene_minutes,
)
from heart.dispatch.timers import TimerState, timer_of
from heart.events import Event
from heart.programs.models import Program, ProgramKind, Shift, Unit, UnitStatus
from heart.programs.service import available_units
from heart.triage.engine import NO_UNIT_IN_TIME, PROGRAM_CLOSED
from heart.triage.policy import Policy


@dataclass(frozen=True, slots=True)
class QueueRow:
    """A waiting call with every free unit of its program (fastest first), the expected wait when none is free, and
    its prompt."""
    queued: QueuedCall
    recommendations: list[Recommendation]
    expected: ExpectedWait | None
    wait_alert: Alert | None
    fallback: FallbackCheck | None = None
    """Which fallback reason holds now (None without a policy to read the program's hours from)."""

    @property
    def call(self) -> Call:
        return self.queued.call

    def fallback_due(self, now: datetime) -> bool:
        """Offer the fallback once the maximum wait passed, or when no unit could arrive within it."""
        if self.fallback is not None and self.fallback.reason is None:
            return False  # a free unit can still arrive in time: send it
        if self.queued.over_max_wait(now) or (self.fallback is not None and self.fallback.reason in (
                PROGRAM_CLOSED, NO_UNIT_IN_TIME)):
            return True
        limit = self.queued.program.max_wait_minutes
        waited = self.queued.waited_minutes(now)
        return not self.recommendations and (self.expected is None or waited + self.expected.minutes > limit)


@dataclass(frozen=True, slots=True)
class UnitRow:
    """A unit, its live response and call (if any), its safety timer and when its shift ends."""
    unit: Unit
    program: Program
    response: Response | None
    call: Call | None
    timer: TimerState | None
    shift_ends_at: datetime | None


@dataclass(frozen=True, slots=True)
class ActiveRow:
    """A call with the units working it."""
    call: Call
    units: list[UnitRow]
    program_ids: list[int] = field(default_factory=list)
    """Programs whose free units may be added to the call (the program of its pathway)."""


@dataclass(frozen=True, slots=True)
class NoteLimits:
    notes: int
    messages: int


@dataclass
class Board:
    """Everything one rendering of the board shows, as of ``now`` and event ``last_event_id``."""
    now: datetime
    last_event_id: int
    queue: list[QueueRow] = field(default_factory=list)
    phone: list[Call] = field(default_factory=list)
    active: list[ActiveRow] = field(default_factory=list)
    units: list[UnitRow] = field(default_factory=list)
    alerts: list[tuple[Alert, str | None]] = field(default_factory=list)
    escalates_to: dict[str, str] = field(default_factory=dict)
    outside: list[Call] = field(default_factory=list)
    """Calls with dispatch that a decision now sends to an outside agency: a person sends them on."""
    free_units: list[Unit] = field(default_factory=list)
    """Units free to send now (for "add a unit" on a call already worked)."""
    exclusion_calls: set[int] = field(default_factory=set)
    """Calls with an exclusion alert not yet acknowledged by board and crew."""
    notes: dict[int, list[CallNote]] = field(default_factory=dict)
    """Each shown call's notes and messages, oldest first (every board viewer may read them)."""
    limits: NoteLimits = field(default_factory=lambda: NoteLimits(2000, 280))
    """How long a note and a message may be (the city's desk rules), for the inputs' maxlength."""
    names: dict[int, str] = field(default_factory=dict)
    """Who wrote a note (user id → name shown), and each unit's call sign under ``-unit_id``."""


def build_board(*, session: Session, now: datetime, policy: Policy | None = None,
                estimator: TravelTimeEstimator = DEFAULT_ESTIMATOR) -> Board:
    """Everything the board shows at ``now``."""
    # Read the newest event id first: whatever the later queries see is at least that new.
    last_event_id = int(session.scalar(select(func.coalesce(func.max(Event.id), 0))) or 0)
    board = Board(now=now, last_event_id=last_event_id)
    programs = {p.id: p for p in session.scalars(select(Program).order_by(Program.code))}
    units = list(session.scalars(select(Unit).order_by(Unit.call_sign)))
    live = list(session.scalars(select(Response).where(Response.cleared_at.is_(None),
                                                       Response.cancelled_at.is_(None))))
    calls = {c.id: c for c in session.scalars(select(Call).where(Call.id.in_({r.call_id for r in live})))}
    shift_ends = dict(session.execute(
        select(Shift.unit_id, func.max(Shift.ends_at)).where(Shift.starts_at <= now, Shift.ends_at > now)
        .group_by(Shift.unit_id)).all())
    live_by_unit = {r.unit_id: r for r in live}
    for unit in units:
        response = live_by_unit.get(unit.id)
        program = programs[unit.program_id]
        board.units.append(UnitRow(unit, program, response, calls.get(response.call_id) if response else None,
                                   timer_of(response, program) if response else None, shift_ends.get(unit.id)))
    board.free_units = available_units(session=session, now=now)
    _fill_queue(board, session, list(programs.values()), live_by_unit, calls, estimator, policy)
    by_call: dict[int, list[UnitRow]] = {}
    for row in board.units:
        if row.call is not None:
            by_call.setdefault(row.call.id, []).append(row)
    by_code = {p.code: p.id for p in programs.values()}
    board.active = sorted((ActiveRow(calls[call_id], rows, [by_code[calls[call_id].pathway or ""]]
                                     if calls[call_id].pathway in by_code else [])
                           for call_id, rows in by_call.items()),
                          key=lambda a: (a.call.received_at, a.call.id))
    phone_codes = [p.code for p in programs.values() if p.kind == ProgramKind.PHONE]
    board.phone = list(session.scalars(select(Call).where(Call.status == CallStatus.TRIAGED,
                                                          Call.pathway.in_(phone_codes)).order_by(Call.received_at)))
    if policy is not None:
        board.escalates_to = {code: p.escalates_to for code, p in policy.programs.items() if p.escalates_to}
        board.outside = outside_agency_calls(session=session, policy=policy)
    call_signs = {u.id: u.call_sign for u in units}
    board.alerts = [(a, call_signs.get(a.unit_id) if a.unit_id else None) for a in open_alerts(session=session)]
    board.exclusion_calls = {a.call_id for a, _ in board.alerts if a.kind == AlertKind.EXCLUSION and a.call_id}
    _fill_notes(board, session, call_signs)
    desk = desk_rules()
    board.limits = NoteLimits(desk.notes.max_length, desk.messages.max_length)
    return board


def _fill_notes(board: Board, session: Session, call_signs: dict[int, str]) -> None:
    shown = [row.call.id for row in board.queue] + [row.call.id for row in board.active]
    board.notes = notes_for_calls(session=session, call_ids=shown)
    authors = {note.author_id for notes in board.notes.values() for note in notes if note.author_id is not None}
    if authors:
        board.names = dict(session.execute(select(User.id, User.display_name).where(User.id.in_(authors))).all())
    board.names.update({-unit_id: call_sign for unit_id, call_sign in call_signs.items()})


def _fill_queue(board: Board, session: Session, programs: list[Program], live_by_unit: dict[int, Response],
                calls: dict[int, Call], estimator: TravelTimeEstimator, policy: Policy | None) -> None:
    queued = queued_calls(session=session, programs=programs)
    if not queued:
        return
    free = board.free_units
    wait_alerts = {a.call_id: a for a in session.scalars(
        select(Alert).where(Alert.kind == AlertKind.MAX_WAIT, Alert.call_id.in_([q.call.id for q in queued])))}
    typical: dict[int, float] = {}
    for item in queued:
        program = item.program
        destination = call_point(item.call)
        ranked = rank_units(destination, [u for u in free if u.program_id == program.id], estimator)
        expected = None
        if not ranked:
            if program.id not in typical:
                typical[program.id] = typical_on_scene_minutes(session=session, program_id=program.id, now=board.now)
            busy = [BusyUnit(row.unit, live_by_unit[row.unit.id], call_point(calls[live_by_unit[row.unit.id].call_id]))
                    for row in board.units
                    if row.unit.program_id == program.id and row.unit.status != UnitStatus.OFF_DUTY
                    and row.unit.id in live_by_unit]
            expected = expected_wait(destination, busy, now=board.now, typical_on_scene=typical[program.id],
                                     estimator=estimator)
        alert = wait_alerts.get(item.call.id)
        check = None if policy is None else check_fallback(session=session, queued=item, now=board.now,
                                                           policy=policy, estimator=estimator, free=free)
        board.queue.append(QueueRow(item, ranked, expected,
                                    alert if alert is not None and alert.acknowledged_at is None else None, check))
