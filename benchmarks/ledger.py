"""What clients were told was saved, and the database checked against it: nothing lost, doubled or half-written.

A ``Ledger`` collects acknowledged writes (the server answered 2xx) as the load generators receive them.
``check`` reads the database directly and returns a list of problems in plain words:

- lost: an acknowledged write that the database does not hold (a call, a decision, a response, a status step,
  a narrative entry);
- doubled: with ``complete=True`` (every client finished what it started), the database holds a call,
  response or narrative entry that no client was told about, or one lifecycle holds two responses;
- half-written: the database's own state disagrees with itself — a row without the event its transaction
  appends (or an event without its row), a unit whose status does not match its live response, a cleared
  response without exactly one encounter, a call whose status does not match its responses; on SQLite also
  ``PRAGMA integrity_check`` and ``PRAGMA foreign_key_check``.

Used by benchmarks/durability.py (kill -9 during writes) and benchmarks/load.py (many users at once), and by
their reduced forms in the test suite.
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from heart.calls.models import Call  # noqa: E402
from heart.db import make_engine  # noqa: E402
from heart.dispatch.models import Response  # noqa: E402
from heart.encounters.models import Encounter, NarrativeEntry  # noqa: E402
from heart.events import Event  # noqa: E402
from heart.programs.models import Unit  # noqa: E402
from heart.triage.models import TriageDecision  # noqa: E402

STEP_EVENTS = {"en_route_at": "response.en_route", "on_scene_at": "response.on_scene",
               "transport_started_at": "response.transporting", "cleared_at": "response.cleared",
               "cancelled_at": "response.cancelled"}
LIVE_UNIT_STATUS = (("transport_started_at", "transporting"), ("on_scene_at", "on_scene"),
                    ("en_route_at", "en_route"))


@dataclass
class Ledger:
    """Acknowledged writes, keyed the way a client knows them."""

    calls: dict[str, int] = field(default_factory=dict)  # external_id -> call id
    routed: set[tuple[int, str]] = field(default_factory=set)  # (call id, pathway) of acknowledged decisions
    responses: dict[int, tuple[int, int]] = field(default_factory=dict)  # response id -> (call id, unit id)
    steps: set[tuple[int, str]] = field(default_factory=set)  # (response id, column) acknowledged
    narrative: dict[str, tuple[int, int, str]] = field(default_factory=dict)  # token -> (encounter, entry, text)

    @property
    def writes(self) -> int:
        return len(self.calls) + len(self.routed) + len(self.responses) + len(self.steps) + len(self.narrative)

    def copy(self) -> Ledger:
        return Ledger(dict(self.calls), set(self.routed), dict(self.responses), set(self.steps),
                      dict(self.narrative))


@dataclass
class Findings:
    lost: list[str] = field(default_factory=list)
    doubled: list[str] = field(default_factory=list)
    half_written: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        return ([f"lost: {p}" for p in self.lost] + [f"doubled: {p}" for p in self.doubled]
                + [f"half-written: {p}" for p in self.half_written])


def check(url: str, ledger: Ledger, *, prefix: str, complete: bool) -> Findings:
    """Compare the database at ``url`` with ``ledger`` (calls whose external id starts with ``prefix``)."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            findings = Findings()
            if engine.dialect.name == "sqlite":
                _sqlite_health(connection, findings)
            _against_ledger(connection, ledger, prefix, complete, findings)
            _self_consistent(connection, findings)
            return findings
    finally:
        engine.dispose()


def _sqlite_health(connection: object, findings: Findings) -> None:
    integrity = connection.execute(text("PRAGMA integrity_check")).scalar()  # type: ignore[attr-defined]
    if integrity != "ok":
        findings.half_written.append(f"SQLite integrity check: {integrity}")
    dangling = connection.execute(text("PRAGMA foreign_key_check")).all()  # type: ignore[attr-defined]
    if dangling:
        findings.half_written.append(f"{len(dangling)} rows point at rows that do not exist")


def _against_ledger(connection: object, ledger: Ledger, prefix: str, complete: bool, findings: Findings) -> None:
    run = connection.execute  # type: ignore[attr-defined]
    calls = {ext: ident for ident, ext in run(select(Call.id, Call.external_id)
                                              .where(Call.external_id.like(f"{prefix}%")))}
    for ext, ident in ledger.calls.items():
        if calls.get(ext) != ident:
            findings.lost.append(f"call {ext} (id {ident}) was acknowledged but is {calls.get(ext) or 'missing'}")
    routed_calls = list({call_id for call_id, _ in ledger.routed}) or [0]
    decided = {tuple(row) for row in run(select(TriageDecision.call_id, TriageDecision.pathway)
                                         .where(TriageDecision.call_id.in_(routed_calls)))}
    for call_id, pathway in sorted(ledger.routed):
        if (call_id, pathway) not in decided:
            findings.lost.append(f"the decision to send call {call_id} to {pathway} was acknowledged but is missing")
    responses = {row.id: row for row in run(select(Response).where(Response.call_id.in_(list(calls.values()) or [0])))}
    for response_id, (call_id, unit_id) in ledger.responses.items():
        row = responses.get(response_id)
        if row is None or (row.call_id, row.unit_id) != (call_id, unit_id):
            findings.lost.append(f"response {response_id} (call {call_id}, unit {unit_id}) was acknowledged but "
                                 "is missing")
    for response_id, column in ledger.steps:
        row = responses.get(response_id)
        if row is None or getattr(row, column) is None:
            findings.lost.append(f"{column.removesuffix('_at').replace('_', ' ')} of response {response_id} was "
                                 "acknowledged but is missing")
    tokens = {token: (encounter_id, ident, body) for token, encounter_id, ident, body in run(
        select(NarrativeEntry.client_token, NarrativeEntry.encounter_id, NarrativeEntry.id, NarrativeEntry.text)
        .join(Encounter, Encounter.id == NarrativeEntry.encounter_id)
        .where(Encounter.call_id.in_(list(calls.values()) or [0])))}
    for token, expected in ledger.narrative.items():
        if tokens.get(token) != expected:
            findings.lost.append(f"narrative entry {expected[1]} was acknowledged but is "
                                 f"{'different' if token in tokens else 'missing'}")
    if complete:
        _nothing_unacknowledged(calls, responses, tokens, ledger, findings)


def _nothing_unacknowledged(calls: dict[str, int], responses: dict[int, object], tokens: dict[str, object],
                            ledger: Ledger, findings: Findings) -> None:
    """Once every client has finished, everything in the database was acknowledged to some client, once."""
    for ext in sorted(set(calls) - set(ledger.calls)):
        findings.doubled.append(f"call {ext} is in the database but no client was told it was saved")
    for response_id in sorted(set(responses) - set(ledger.responses)):
        findings.doubled.append(f"response {response_id} is in the database but no client was told it was saved")
    for token in sorted(set(tokens) - set(ledger.narrative)):
        findings.doubled.append(f"a narrative entry ({token[:8]}…) is in the database but was never acknowledged")
    per_call = Counter(call_id for call_id, _ in ledger.responses.values())
    for call_id, count in per_call.items():
        if count > 1:
            findings.doubled.append(f"call {call_id} holds {count} responses")


def _self_consistent(connection: object, findings: Findings) -> None:
    run = connection.execute  # type: ignore[attr-defined]
    events = Counter((kind, subject_type, subject_id) for kind, subject_type, subject_id in
                     run(select(Event.kind, Event.subject_type, Event.subject_id)))
    half = findings.half_written

    def exactly_one(kind: str, subject_type: str, ids: set[int], what: str) -> None:
        for ident in sorted(ids):
            if events[(kind, subject_type, ident)] != 1:
                half.append(f"{what} {ident} has {events[(kind, subject_type, ident)]} '{kind}' events")
        for (event_kind, event_subject, ident), _ in events.items():
            if event_kind == kind and event_subject == subject_type and ident not in ids:
                half.append(f"a '{kind}' event names {what} {ident}, which does not exist")

    exactly_one("call.received", "call", set(run(select(Call.id)).scalars()), "call")
    decisions = set(run(select(TriageDecision.id)).scalars())
    for ident in sorted(decisions):
        count = sum(events[(kind, "triage_decision", ident)] for kind in
                    ("triage.decided", "triage.overridden", "triage.fallback", "call.escalated"))
        if count != 1:
            half.append(f"triage decision {ident} has {count} events")
    responses = list(run(select(Response)))
    exactly_one("response.dispatched", "response", {r.id for r in responses}, "response")
    for column, kind in STEP_EVENTS.items():
        exactly_one(kind, "response", {r.id for r in responses if getattr(r, column) is not None}, f"response ({kind})")
    encounters = list(run(select(Encounter.id, Encounter.response_id)))
    exactly_one("encounter.opened", "encounter", {e.id for e in encounters}, "encounter")
    by_response = Counter(e.response_id for e in encounters)
    for response in responses:
        expected = 1 if response.cleared_at is not None else 0
        if by_response[response.id] != expected:
            half.append(f"response {response.id} ({response.status}) has {by_response[response.id]} encounters")
    exactly_one("narrative.appended", "narrative_entry", set(run(select(NarrativeEntry.id)).scalars()),
                "narrative entry")
    _units_match_responses(run, responses, half)
    _calls_match_responses(run, responses, events, half)


def _units_match_responses(run: object, responses: list[object], half: list[str]) -> None:
    live = {r.unit_id: r for r in responses  # type: ignore[attr-defined]
            if r.cleared_at is None and r.cancelled_at is None}  # type: ignore[attr-defined]
    for unit_id, status in run(select(Unit.id, Unit.status)):  # type: ignore[operator]
        response = live.get(unit_id)
        if response is None:
            if status not in ("available", "off_duty"):
                half.append(f"unit {unit_id} is {status} without a live response")
            continue
        expected = next((s for column, s in LIVE_UNIT_STATUS if getattr(response, column) is not None),
                        "dispatched")
        if status != expected:
            half.append(f"unit {unit_id} is {status} but its response {response.id} is {expected}")


def _calls_match_responses(run: object, responses: list[object], events: Counter[tuple[str, str, int]],
                           half: list[str]) -> None:
    by_call: dict[int, list[object]] = {}
    for response in responses:
        by_call.setdefault(response.call_id, []).append(response)  # type: ignore[attr-defined]
    statuses = dict(run(select(Call.id, Call.status).where(Call.id.in_(list(by_call) or [0]))).all())  # type: ignore[operator]
    for call_id, call_responses in by_call.items():
        live = [r for r in call_responses if r.cleared_at is None and r.cancelled_at is None]  # type: ignore[attr-defined]
        cleared = [r for r in call_responses if r.cleared_at is not None]  # type: ignore[attr-defined]
        status = statuses.get(call_id)
        if live and status != "assigned":
            half.append(f"call {call_id} is {status} while a unit is on it")
        if not live and cleared:
            if status != "resolved":
                half.append(f"call {call_id} is {status} although its response cleared")
            if events[("call.resolved", "call", call_id)] != 1:
                half.append(f"call {call_id} has {events[('call.resolved', 'call', call_id)]} 'call.resolved' "
                            "events")
