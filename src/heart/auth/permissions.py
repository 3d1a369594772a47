"""Who may do what. Every route names one permission family; a route without one refuses to start.

The table is data so that it can be read, reviewed and tested role by role.
"""

from __future__ import annotations

from heart.auth.models import Role
from heart.events import REASON_GIVEN

R = Role
PERMISSIONS: dict[str, frozenset[Role]] = {
    "calls.read": frozenset({R.CALL_TAKER, R.DISPATCHER, R.RESPONDER, R.SUPERVISOR}),
    "calls.write": frozenset({R.CALL_TAKER, R.DISPATCHER, R.SUPERVISOR}),
    "triage.decide": frozenset({R.CALL_TAKER, R.DISPATCHER, R.SUPERVISOR}),
    "triage.override": frozenset({R.CALL_TAKER, R.DISPATCHER, R.SUPERVISOR}),
    "dispatch.assign": frozenset({R.DISPATCHER, R.SUPERVISOR}),
    "dispatch.status": frozenset({R.DISPATCHER, R.RESPONDER, R.SUPERVISOR}),
    "dispatch.board": frozenset({R.DISPATCHER, R.SUPERVISOR}),
    "responder.view": frozenset({R.RESPONDER}),
    "encounters.read": frozenset({R.RESPONDER, R.NAVIGATOR, R.SUPERVISOR}),
    "encounters.write": frozenset({R.RESPONDER, R.NAVIGATOR, R.SUPERVISOR}),
    "programs.read": frozenset({R.CALL_TAKER, R.DISPATCHER, R.RESPONDER, R.SUPERVISOR, R.ANALYST, R.ADMIN}),
    "programs.admin": frozenset({R.ADMIN}),
    "units.duty": frozenset({R.DISPATCHER, R.SUPERVISOR, R.ADMIN}),
    "users.admin": frozenset({R.ADMIN}),
    "audit.read": frozenset({R.SUPERVISOR, R.ADMIN}),
    "metrics.read": frozenset({R.SUPERVISOR, R.ANALYST, R.ADMIN}),
    "simulation.run": frozenset({R.SUPERVISOR, R.ANALYST}),
    "resources.read": frozenset({R.NAVIGATOR, R.SUPERVISOR, R.ADMIN}),
    # Neighbors' records: only roles with a need. A responder reads only the neighbors of their unit's current
    # call (heart.auth.need_to_know); an analyst, an administrator, a dispatcher never.
    "neighbors.read": frozenset({R.RESPONDER, R.NAVIGATOR, R.SUPERVISOR}),
    "neighbors.write": frozenset({R.NAVIGATOR, R.SUPERVISOR}),
    "followups.read": frozenset({R.NAVIGATOR, R.SUPERVISOR}),
    "followups.write": frozenset({R.NAVIGATOR, R.SUPERVISOR}),
    "followups.supervise": frozenset({R.SUPERVISOR}),
    "care.handoff": frozenset({R.CALL_TAKER, R.SUPERVISOR}),  # a CCD clinician's handoff after a phone contact
    # Familiar neighbors: supervisors review linkage (accept, reject, split) and flags (approach notes, expiry); the
    # report holds counts only, so analysts read it too.
    "familiar.review": frozenset({R.SUPERVISOR}),
    "familiar.report": frozenset({R.SUPERVISOR, R.ANALYST}),
    # Residents' requests for an event and volunteer sign-ups: their contact details are personal data, worked by the
    # department's supervisors and administrators only.
    "engagement.work": frozenset({R.SUPERVISOR, R.ADMIN}),
    "signed_in": frozenset(Role),
}


def allowed(family: str, role: Role) -> bool:
    """Whether ``role`` may use routes of ``family``."""
    return role in PERMISSIONS[family]


REASON_READERS: frozenset[Role] = PERMISSIONS["encounters.read"]
"""Who reads a person's free-text reasons (override, escalation, cancel, strike, the phone clinician's note):
the roles that read narrative. Not a route family: it decides what a page or an answer shows of a record."""


def may_read_reasons(role: Role) -> bool:
    """Whether ``role`` reads free-text reasons (see REASON_READERS)."""
    return role in REASON_READERS


def reason_for(role: Role, text: str | None) -> str | None:
    """A free-text reason as ``role`` may see it: the text, or "(reason given)" for roles that may not read it."""
    if text is None or may_read_reasons(role):
        return text
    return REASON_GIVEN
