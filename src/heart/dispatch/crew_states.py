"""What every crew's phone stream shows, read once per change per process for all the units being watched.

Forty phones open on one server process used to cost forty sessions, eighty queries and forty renders of the
safety banner at every change anywhere; now the first stream to wake after a change reads the live response and the
unacknowledged alerts of every watched unit in two queries, and the others take their unit's line from that
reading. The reading is made after the change was heard, so it is never older than what woke the stream.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from heart.calls.models import CallNote
from heart.dispatch import alerts
from heart.dispatch.models import Response as Assignment
from heart.templating import templates


@dataclass(frozen=True, slots=True)
class CrewState:
    """A unit's live response as the phone compares it ("<id>:<status>" or "none"), its safety banner, and what
    notes and messages its call has (the call's id and theirs; empty without a call), so a phone redraws its list
    only when one is written."""

    response: str
    banner: str
    notes: tuple[int, ...] = ()


def safety_banner_html(found: list[alerts.Alert]) -> str:
    """The crew's unacknowledged safety alerts as the page shows them (empty when there are none)."""
    return templates.env.get_template("responder/_safety.html").render(alerts=found)


def read_states(session: Session, unit_ids: set[int]) -> dict[int, CrewState]:
    """The state of each of ``unit_ids``, in three queries."""
    responses = {response.unit_id: response for response in session.scalars(
        select(Assignment).where(Assignment.unit_id.in_(unit_ids), Assignment.cleared_at.is_(None),
                                 Assignment.cancelled_at.is_(None)))}
    found = alerts.crew_alerts_of(session=session, unit_ids=unit_ids)
    notes: dict[int, list[int]] = {response.call_id: [] for response in responses.values()}
    for call_id, note_id in session.execute(select(CallNote.call_id, CallNote.id).where(
            CallNote.call_id.in_(notes)).order_by(CallNote.id)).tuples():
        notes[call_id].append(note_id)
    empty = safety_banner_html([])
    states = {}
    for unit in unit_ids:
        response = responses.get(unit)
        states[unit] = CrewState(
            f"{response.id}:{response.status}" if response else "none",
            safety_banner_html(found[unit]) if found.get(unit) else empty,
            (response.call_id, *notes[response.call_id]) if response else ())
    return states


class CrewStates:
    """The newest reading of every watched unit's state, shared by the phone streams of one process.

    ``state(unit, generation)`` answers from the reading if it was made at ``generation`` or later (the
    realtime hub's change counter, read by the stream before it asks), and otherwise reads again, for every watched
    unit at once. Streams ask from worker threads; one reads while the others wait for its answer.
    """

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self._factory = factory
        self._lock = threading.Lock()
        self._watched: Counter[int] = Counter()
        self._generation = -1
        self._states: dict[int, CrewState] = {}

    def watch(self, unit_id: int) -> None:
        with self._lock:
            self._watched[unit_id] += 1

    def unwatch(self, unit_id: int) -> None:
        with self._lock:
            self._watched[unit_id] -= 1
            if self._watched[unit_id] <= 0:
                del self._watched[unit_id]

    def cached(self, unit_id: int, generation: int) -> CrewState | None:
        """The unit's state if the newest reading answers for ``generation``, without waiting: ``None`` when it
        does not, or while a reading is being made (then ask ``state`` from a worker thread)."""
        if not self._lock.acquire(blocking=False):
            return None
        try:
            return self._states.get(unit_id) if generation <= self._generation else None
        finally:
            self._lock.release()

    def state(self, unit_id: int, generation: int) -> CrewState:
        with self._lock:
            if generation > self._generation or unit_id not in self._states:
                with self._factory() as session:
                    self._states = read_states(session, {*self._watched, unit_id})
                self._generation = max(generation, self._generation)
            return self._states[unit_id]
