"""A change of a call's facts after triage: record it, decide again, and alert an unarmed team already out.

Every path that changes a call's screening answers, priority or type after intake goes through here (the JSON
API, the call-taker's screen, a later EIDO document), so that no change is recorded without its new decision and,
when an unarmed team is dispatched, en route or on scene, without a top-priority alert on every board and on the
crew's phone. The call's row is locked first: a unit being sent at the same moment either sees the new facts and
is refused, or is already out and gets the alert.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.orm import Session

from heart.calls.models import Call
from heart.calls.service import change_facts, get_call, record_screening
from heart.dispatch.alerts import raise_exclusion_alerts
from heart.triage.models import TriageDecision
from heart.triage.policy import Policy
from heart.triage.service import policy_named, redecide


def change_screening(*, session: Session, call_id: int, answers: Mapping[str, str], now: datetime,
                     actor_id: int | None, policy: Policy | None = None) -> Call:
    """Record screening answers; if the call was already triaged, decide again and alert a team on the way."""
    call = get_call(session=session, call_id=call_id, for_update=True)
    before = dict(call.screening)
    record_screening(session=session, call_id=call_id, answers=dict(answers), now=now, actor_id=actor_id)
    changes = {q: a for q, a in call.screening.items() if before.get(q) != a}
    facts_changed(session=session, call=call, changes=changes, now=now, actor_id=actor_id, policy=policy)
    return call


def change_call_facts(*, session: Session, call_id: int, changes: Mapping[str, str | None], now: datetime,
                      actor_id: int | None, policy: Policy | None = None) -> Call:
    """Correct the call's type or priority; decide again and alert as for a changed answer."""
    changed = change_facts(session=session, call_id=call_id, changes=dict(changes), now=now, actor_id=actor_id)
    call = get_call(session=session, call_id=call_id)
    facts_changed(session=session, call=call, changes=changed, now=now, actor_id=actor_id, policy=policy)
    return call


def facts_changed(*, session: Session, call: Call, changes: Mapping[str, str | None], now: datetime,
                  actor_id: int | None, policy: Policy | None = None) -> TriageDecision | None:
    """After a change already recorded on ``call``: the new decision (if triaged) and the alerts (if a team is out)."""
    if not changes:
        return None
    policy = policy or policy_named(None)
    decision = redecide(session=session, call=call, changes=changes, now=now, actor_id=actor_id, policy=policy)
    raise_exclusion_alerts(session=session, call=call, policy=policy, now=now, actor_id=actor_id,
                           cause=f"d{decision.id}" if decision is not None else f"t{int(now.timestamp() * 1e6)}")
    return decision
