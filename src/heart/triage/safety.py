"""Whether a call's current facts clear every exclusion of a policy: the one check before an unarmed team goes.

An unarmed team may go only when every exclusion question is answered "no" (unknown never counts as no), the
priority is not an excluded one, the call type's words name no danger the policy says implies an exclusion, and
the incident type is not one an exclusion says always meets it. ``blocking_exclusions`` lists what stands in the
way, in plain words a dispatcher can act on; the dispatch service refuses a unit with them (in the transaction
that claims the unit), and a change of facts with an unarmed team already out raises them as a safety alert.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from heart.calls.models import Call
from heart.crosswalk.mapper import resolve_nature_code
from heart.crosswalk.taxonomy import INCIDENT_TYPES
from heart.triage.engine import implied_exclusions
from heart.triage.policy import Exclusion, Policy

HOLDS = ("yes", "priority", "words", "type")
"""Causes that mean the exclusion is met; "unanswered" means it is not known to be clear."""


@dataclass(frozen=True, slots=True)
class Blocking:
    """One exclusion that is not clear, why, and the words that say so."""

    exclusion: Exclusion
    cause: str  # "yes", "unanswered", "priority", "words" or "type"
    text: str

    @property
    def holds(self) -> bool:
        """True when the exclusion is met (not merely unanswered)."""
        return self.cause in HOLDS

    def alert(self, policy: Policy) -> str:
        """The policy's words for this on every board and on the crew's phone."""
        if self.holds:
            return self.exclusion.alert
        question = (self.exclusion.question or self.exclusion.id).replace("_", " ")
        return policy.safety_alert_unanswered.format(question=question[:1].upper() + question[1:])


def blocking_exclusions(
    policy: Policy, *, screening: Mapping[str, str], priority: str | None, incident_type: str | None,
    nature_code: str | None,
) -> list[Blocking]:
    """Every exclusion the facts do not clear, in the policy's order (empty: an unarmed team may go)."""
    found: list[Blocking] = []
    implied = {item.exclusion.id: item for item in implied_exclusions(policy, nature_code)}
    level = None if priority is None else str(priority).strip().upper()
    for exclusion in policy.exclusions:
        if exclusion.question is not None:
            answer = str(screening.get(exclusion.question) or "").strip().lower()
            named = exclusion.question.replace("_", " ")
            if answer == "yes":
                found.append(Blocking(exclusion, "yes", f"{named}: yes"))
            elif answer != "no":
                found.append(Blocking(exclusion, "unanswered", f"{named}: {answer or 'not asked'} (not answered no)"))
        if level is not None and level in exclusion.priorities:
            found.append(Blocking(exclusion, "priority", f"priority {level}"))
        if exclusion.id in implied:
            found.append(Blocking(exclusion, "words", f"the call type says: {implied[exclusion.id].said}"))
        if incident_type is not None and incident_type in exclusion.implied_by_types:
            found.append(Blocking(exclusion, "type", f"the incident type is {INCIDENT_TYPES[incident_type].label}"))
    return found


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
