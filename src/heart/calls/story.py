"""A call's story in plain words: its timeline (events and the notes and messages written on it, in time order)
and what each event means to a person reading the call's page. No HTML here: the template escapes every word."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from heart.calls.models import CallNote
from heart.events import Event

EVENT_WORDS: dict[str, str] = {
    "call.received": "Call received",
    "call.screening_answered": "Screening answers recorded",
    "call.facts_changed": "Call type or priority corrected",
    "call.updated": "Call updated from the sender's document",
    "call.escalated": "Escalated from the phone clinician to a field team",
    "call.sent_to_agency": "Sent to an outside agency",
    "call.resolved_by_phone": "Resolved by phone",
    "call.resolved": "Call closed",
    "call.triaged": "Back in the queue",
    "call.assigned": "A unit is on the call",
    "call.note_added": "Note added",
    "call.message_sent": "Message",
    "triage.decided": "Decided by the policy",
    "triage.redecided": "Decided again after a change",
    "triage.overridden": "Decision overridden by a person",
    "triage.fallback": "Fell back: no unit of the program in time",
    "triage.handed_to_dispatch": "Handed to dispatch",
    "response.dispatched": "Unit sent",
    "response.en_route": "Unit en route",
    "response.on_scene": "Unit on scene",
    "response.transporting": "Transport started",
    "response.cleared": "Unit cleared",
    "response.cancelled": "Unit called off",
    "response.checked_in": "Crew checked in (all OK)",
    "response.backup_requested": "Backup requested",
    "alert.raised": "Alert raised",
    "alert.acknowledged": "Alert acknowledged",
    "encounter.opened": "Encounter recorded",
    "narrative.appended": "Narrative written",
    "narrative.struck": "Narrative entry struck",
    "follow_up.opened": "Follow-up opened for Care Navigation",
    "eido.unusable": "A document from the sender could not be used",
}


def event_words(event: Event) -> str:
    """What ``event`` means, in a sentence's first words (its kind's own words when none are written here)."""
    words = EVENT_WORDS.get(event.kind)
    if words is None:
        words = event.kind.replace(".", ": ", 1).replace("_", " ").capitalize()
    after: dict[str, Any] = event.after or {}
    details = []
    if after.get("call_sign"):
        details.append(str(after["call_sign"]))
    if event.kind == "call.message_sent":
        details.append(f"{after.get('from', '?')} → {after.get('to', '?')}")
    if after.get("pathway") and event.kind.startswith(("triage.", "call.escalated", "call.sent_to_agency")):
        details.append(f"→ {after['pathway']}")
    return " · ".join([words, *details])


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One line of the call's timeline: an event, or a note or message with its text."""

    at: datetime
    words: str
    note: CallNote | None = None
    event: Event | None = None


def timeline(events: list[Event], notes: list[CallNote]) -> list[TimelineEntry]:
    """Events and notes together, oldest first; a note's own event is its note (the words are said once)."""
    noted = {note.id for note in notes}
    entries = [TimelineEntry(e.at, event_words(e), event=e) for e in events
               if not (e.subject_type == "call_note" and e.subject_id in noted)]
    entries += [TimelineEntry(n.created_at, "", note=n) for n in notes]
    return sorted(entries, key=lambda entry: (entry.at, entry.note is not None))
