"""Whether a call's current facts clear every exclusion of a policy: the one check before an unarmed team goes.

An unarmed team may go only when every exclusion question is answered "no" (unknown never counts as no), the
priority is not an excluded one, the call type's words name no danger the policy says implies an exclusion, and
the incident type is not one an exclusion says always meets it. ``blocking_exclusions`` lists what stands in the
way, in plain words a dispatcher can act on; the dispatch service refuses a unit with them (in the transaction
that claims the unit), and a change of facts with an unarmed team already out raises them as a safety alert.
"""

from __future__ import annotations

from heart.calls.models import Call
from heart.crosswalk.mapper import resolve_nature_code
from heart.triage.engine import HOLDS, Blocking, blocking_exclusions
from heart.triage.policy import Policy

__all__ = ["HOLDS", "Blocking", "blocking_exclusions", "call_blockers", "describe", "unarmed_refusal"]


def call_blockers(policy: Policy, call: Call) -> list[Blocking]:
    """The exclusions the call's facts, as they stand now, do not clear."""
    incident_type = call.incident_type or (resolve_nature_code(call.nature_code) if call.nature_code else None)
    return blocking_exclusions(policy, screening=call.screening or {}, priority=call.priority,
                               incident_type=incident_type, nature_code=call.nature_code)


def describe(blockers: list[Blocking]) -> str:
    """'weapon: yes; the call type says: weapon (KNIFE)'."""
    return "; ".join(dict.fromkeys(b.text for b in blockers))


def unarmed_refusal(policy: Policy, program_code: str, call: Call) -> str | None:
    """Why a team of ``program_code`` may not go to ``call`` (None when it may): only unarmed teams are checked."""
    if not policy.unarmed(program_code):
        return None
    blockers = call_blockers(policy, call)
    if not blockers:
        return None
    return (f"{program_code} is an unarmed team and call {call.id} does not clear every exclusion "
            f"({describe(blockers)})")
