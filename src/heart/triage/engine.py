"""The triage engine: a pure function from a call's facts, a policy, a time and unit availability to a
decision with its reasons in plain words.

The rules of the policy are tried in order and the first that fits decides. A rule that fits but
whose program is closed at that hour, or has no unit free, is passed over and the decision records
why ("program_closed" / "no_unit_available"). A screening answer other than "yes" or "no" is
unknown, and unknown never counts as "no": a rule that needs a "no" (or a "yes") cannot fit until it
is answered, and such questions are listed in ``unanswered`` when answering them could change the
pathway.

The call type is read through the one resolver every intake path uses (``heart.crosswalk.mapper``). When its
words name danger that the policy says implies an exclusion (``implied_by_words``), that exclusion counts as
"yes" whatever the screening says, and the first reason says so ("The call type says: weapon").

A decision also records, when it holds, that an unarmed team's rule would have taken the call but for an exclusion
(``excluded_pathway`` and the ``exclusions`` that held): the program the call's type and other answers make it
eligible for were every exclusion clear, worked out by the same rules with the exclusions cleared. Reach counts such
a call as eligible for that program and missed because of an exclusion. An exclusion merely unanswered is not one
that held (it is in ``unanswered`` when answering could change the pathway).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from heart.crosswalk.mapper import live_mapper, resolve_nature_code
from heart.crosswalk.taxonomy import INCIDENT_TYPES, OTHER, NatureCodeResolver
from heart.errors import InvalidInput
from heart.triage.policy import ANSWERS, PRIORITIES, Exclusion, Policy, Program, Rule

PROGRAM_CLOSED = "program_closed"
NO_UNIT_AVAILABLE = "no_unit_available"
NO_UNIT_IN_TIME = "no_unit_in_time"
NOT_DISPATCHED_IN_TIME = "not_dispatched_in_time"
FALLBACK_REASONS: dict[str, str] = {
    PROGRAM_CLOSED: "the program was closed",
    NO_UNIT_AVAILABLE: "no unit of the program was on duty and free",
    NO_UNIT_IN_TIME: "no free unit could arrive within the maximum wait",
    NOT_DISPATCHED_IN_TIME: "not dispatched within the maximum wait while units were free",
}
"""Why a preferred program did not take a call, each a fact recorded at that moment (reach counts each apart)."""

_FITS, _NOT, _UNKNOWN = 0, 1, 2


@dataclass(frozen=True, slots=True)
class CallFacts:
    """What the call-taker knows about a call. Screening answers: "yes", "no" or "unknown" (missing)."""

    nature_code: str | None = None
    incident_type: str | None = None
    priority: str | None = None
    screening: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> CallFacts:
        """Read the `heart triage decide` JSON contract; a wrong value raises InvalidInput naming it."""
        unknown_keys = set(doc) - {"nature_code", "incident_type", "priority", "screening"}
        if unknown_keys:
            raise InvalidInput(f"unknown field {sorted(unknown_keys)[0]!r}", field=sorted(unknown_keys)[0])
        for key in ("nature_code", "incident_type"):
            if doc.get(key) is not None and not isinstance(doc[key], str):
                raise InvalidInput(f"{key} must be text", field=key)
        priority = doc.get("priority")
        if priority is not None and str(priority).strip().upper() not in PRIORITIES:
            raise InvalidInput(f"priority must be one of {', '.join(PRIORITIES)}", field="priority")
        screening = doc.get("screening") or {}
        if not isinstance(screening, Mapping):
            raise InvalidInput("screening must map question ids to yes/no/unknown", field="screening")
        for question, answer in screening.items():
            if answer is not None and str(answer).strip().lower() not in ANSWERS:
                raise InvalidInput(f"screening.{question} must be yes, no or unknown", field=f"screening.{question}")
        return cls(
            nature_code=doc.get("nature_code"),
            incident_type=doc.get("incident_type"),
            priority=None if priority is None else str(priority).strip().upper(),
            screening={str(q): str(a).strip().lower() for q, a in screening.items() if a is not None},
        )


@dataclass(frozen=True, slots=True)
class Reason:
    """One step of the decision: the rule's id and what it means, in plain words."""

    rule: str
    text: str


@dataclass(frozen=True, slots=True)
class Decision:
    """Where a call should go, under which policy version, and why."""

    pathway: str
    policy: str
    version: int
    reasons: tuple[Reason, ...]
    unanswered: tuple[str, ...]
    rule: str
    """Id of the rule that decided."""
    incident_type: str
    fallback_reason: str | None = None
    """PROGRAM_CLOSED or NO_UNIT_AVAILABLE when a preferred program could not take the call."""
    fallback_program: str | None = None
    """The program that was passed over (for "Why didn't HEART come?")."""
    escalates_to: str | None = None
    """A phone pathway's field team, if the clinician decides a visit is needed (CCD → CRT)."""
    excluded_pathway: str | None = None
    """The unarmed team whose rule the call would have fitted were every exclusion clear, when one held."""
    exclusions: tuple[str, ...] = ()
    """The ids of the policy's exclusions that held (met, not merely unanswered), in the policy's order."""

    @property
    def fallback(self) -> str | None:
        """Same as ``fallback_reason``: why the preferred program did not take the call, if it did not."""
        return self.fallback_reason

    def to_json(self) -> dict[str, Any]:
        """The `heart triage decide` output contract, plus the fallback if there was one."""
        fallback = None
        if self.fallback_reason is not None:
            fallback = {"reason": self.fallback_reason, "program": self.fallback_program}
        return {
            "pathway": self.pathway,
            "policy": self.policy,
            "version": self.version,
            "reasons": [{"rule": reason.rule, "text": reason.text} for reason in self.reasons],
            "unanswered": list(self.unanswered),
            "fallback": fallback,
        }


def decide(
    facts: CallFacts,
    policy: Policy,
    at: datetime,
    availability: Mapping[str, bool] | None = None,
    *,
    resolver: NatureCodeResolver | None = None,
) -> Decision:
    """Decide the pathway for one call at time ``at`` (timezone-aware).

    ``availability`` maps a program code to whether a unit is free within the policy's maximum wait;
    None, or a program missing from it, means available. ``resolver`` maps nature codes to incident
    types (default: the one resolver of every intake path, ``heart.crosswalk.mapper``).
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("the decision time must be timezone-aware")
    local = at.astimezone(policy.timezone)
    minute = local.hour * 60 + local.minute
    incident_type, type_reason = _incident_type(facts, resolver or resolve_nature_code)
    priority = None if facts.priority is None else str(facts.priority).strip().upper()
    answers = {q: _answer(facts.screening.get(q)) for q in policy.question_ids}
    implied = implied_exclusions(policy, facts.nature_code)
    steps: list[Reason | _Blocked] = [type_reason]
    for found in implied:
        if found.exclusion.question is not None:
            answers[found.exclusion.question] = "yes"
        steps.append(Reason("call_type_says", _implied_text(found)))
    excluded_by_words = any(found.exclusion.question is None for found in implied)

    passed_over: list[tuple[Rule, str]] = []
    for rule in policy.rules:
        fit, unknown = _fits(rule, incident_type, priority, answers, policy, excluded_by_words)
        if fit == _UNKNOWN:
            steps.append((rule, unknown))
            continue
        if fit == _NOT:
            continue
        program = policy.programs[rule.send]
        why_not = _why_not_open(program, minute, availability)
        if why_not is None:
            can_send = _Openness(policy, minute, availability)
            # A call an unarmed team's rule takes has every exclusion clear; only another needs asking why.
            excluded = (None, ()) if rule.exclusions_clear else _kept_from_team(
                policy, facts, incident_type, priority, answers)
            return _decision(policy, rule, incident_type, steps, passed_over, can_send, excluded)
        passed_over.append((rule, why_not))
        steps.append(Reason(rule.id, _passed_over_text(rule, program, why_not, local.strftime("%H:%M"))))
    raise AssertionError("a policy always ends with a default rule that fits every call")


_Blocked = tuple[Rule, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class _Openness:
    """Answers "could this program take the call now?" for the programs that need asking."""

    policy: Policy
    minute: int
    availability: Mapping[str, bool] | None

    def __contains__(self, code: str) -> bool:
        return _why_not_open(self.policy.programs[code], self.minute, self.availability) is None


def _decision(
    policy: Policy,
    rule: Rule,
    incident_type: str,
    steps: list[Reason | _Blocked],
    passed_over: list[tuple[Rule, str]],
    can_send: _Openness,
    excluded: tuple[str | None, tuple[str, ...]] = (None, ()),
) -> Decision:
    """Assemble the decision; keep only the unanswered questions that could change the pathway."""
    reasons: list[Reason] = []
    needed: set[str] = set()
    for step in steps:
        if isinstance(step, Reason):
            reasons.append(step)
        elif step[0].send != rule.send and step[0].send in can_send:
            needed.update(step[1])
            reasons.append(Reason(step[0].id, _unknown_text(policy.programs[step[0].send], step[1])))
    reasons.append(Reason(rule.id, rule.text))
    first_passed = passed_over[0] if passed_over else None
    return Decision(
        pathway=rule.send,
        policy=policy.id,
        version=policy.version,
        reasons=tuple(reasons),
        unanswered=tuple(q for q in policy.question_ids if q in needed),
        rule=rule.id,
        incident_type=incident_type,
        fallback_reason=first_passed[1] if first_passed else None,
        fallback_program=first_passed[0].send if first_passed else None,
        escalates_to=policy.programs[rule.send].escalates_to,
        excluded_pathway=excluded[0],
        exclusions=excluded[1],
    )


def _kept_from_team(policy: Policy, facts: CallFacts, incident_type: str, priority: str | None,
                    answers: Mapping[str, str]) -> tuple[str | None, tuple[str, ...]]:
    """The unarmed team an exclusion that held kept from the call, and those exclusions; (None, ()) if none."""
    team = type_eligible_team(policy, incident_type, priority, answers)  # a few rules: cheaper first
    if team is None:
        return None, ()
    held = tuple(dict.fromkeys(
        b.exclusion.id for b in blocking_exclusions(policy, screening=facts.screening, priority=priority,
                                                    incident_type=incident_type, nature_code=facts.nature_code)
        if b.holds))
    return (team, held) if held else (None, ())


def type_eligible_team(policy: Policy, incident_type: str, priority: str | None, answers: Mapping[str, str]
                       ) -> str | None:
    """The unarmed team the call would go to were every exclusion clear (hours and units aside), else None.

    The rules are tried in order with every exclusion question answered "no" and no excluded priority; the first
    that fits decides. Only a rule that needs the exclusions clear names a team here: a call whose type goes to
    another response anyway (a fire, a shooting) was never eligible for an unarmed team.
    """
    cleared = {**answers, **dict.fromkeys(policy.exclusion_questions, "no")}
    level = None if priority in policy.excluded_priorities else priority
    for rule in policy.rules:
        fit, _ = _fits(rule, incident_type, level, cleared, policy)
        if fit == _FITS:
            return rule.send if rule.exclusions_clear else None
    return None


def _answer(value: str | None) -> str:
    """'yes', 'no' or 'unknown': anything else, including no answer, is unknown."""
    if value is None:
        return "unknown"
    value = value.strip().lower()
    return value if value in ("yes", "no") else "unknown"


def _incident_type(facts: CallFacts, resolver: NatureCodeResolver) -> tuple[str, Reason]:
    """The canonical incident type, and a reason saying where it came from."""
    if facts.incident_type:
        known = INCIDENT_TYPES.get(facts.incident_type)
        if known is None:
            return OTHER, Reason(
                "incident_type", f"Incident type {facts.incident_type!r} is not known; treated as other."
            )
        return known.id, Reason("incident_type", f"The call is: {known.label}.")
    if facts.nature_code:
        found = resolver(facts.nature_code)
        if found is None or found not in INCIDENT_TYPES:
            text = (f"The call type {facts.nature_code!r} matches no known incident type (unknown type); "
                    "treated as other until a person picks one.")
            return OTHER, Reason("nature_code", text)
        label = INCIDENT_TYPES[found].label
        return found, Reason("nature_code", f"The nature code {facts.nature_code!r} means: {label}.")
    return OTHER, Reason("incident_type", "No nature code or incident type was given; treated as other.")


def _fits(
    rule: Rule, incident_type: str, priority: str | None, answers: Mapping[str, str], policy: Policy,
    excluded_by_words: bool = False,
) -> tuple[int, tuple[str, ...]]:
    """Whether the rule fits: _FITS, _NOT, or _UNKNOWN with the unanswered questions in the way."""
    if rule.types is not None and incident_type not in rule.types:
        return _NOT, ()
    if rule.priorities is not None and priority not in rule.priorities:
        return _NOT, ()
    if rule.exclusions_clear and (priority in policy.excluded_priorities or excluded_by_words):
        return _NOT, ()
    unknown: list[str] = []
    if rule.any_yes:
        said = [answers[q] for q in rule.any_yes]
        if "yes" not in said:
            if "unknown" not in said:
                return _NOT, ()
            unknown.extend(q for q in rule.any_yes if answers[q] == "unknown")
    must_be_no = rule.all_no + policy.exclusion_questions if rule.exclusions_clear else rule.all_no
    for question in must_be_no:
        answer = answers[question]
        if answer == "yes":
            return _NOT, ()
        if answer == "unknown":
            unknown.append(question)
    return (_UNKNOWN, tuple(unknown)) if unknown else (_FITS, ())


@dataclass(frozen=True, slots=True)
class Implied:
    """An exclusion the call type's words imply: which kinds of danger, and the words themselves."""

    exclusion: Exclusion
    kinds: tuple[str, ...]
    words: tuple[str, ...]

    @property
    def said(self) -> str:
        """'weapon (KNIFE, ARMED)': what the call type says, in the words of the crosswalk."""
        return f"{', '.join(k.replace('_', ' ') for k in self.kinds)} ({', '.join(self.words)})"


def implied_exclusions(policy: Policy, nature_code: str | None) -> list[Implied]:
    """The policy's exclusions the call type's words imply (its ``implied_by_words``)."""
    if not nature_code or not any(ex.implied_by_words for ex in policy.exclusions):
        return []
    found_kinds = live_mapper()(nature_code).danger  # remembered per distinct call type
    found = []
    for exclusion in policy.exclusions:
        kinds = tuple(sorted(exclusion.implied_by_words & set(found_kinds)))
        if kinds:
            words = tuple(dict.fromkeys(w for kind in kinds for w in found_kinds[kind]))
            found.append(Implied(exclusion, kinds, words))
    return found


def _implied_text(implied: Implied) -> str:
    exclusion = implied.exclusion
    if exclusion.question:
        named = exclusion.question.replace("_", " ")
        return (f"The call type says: {implied.said}; that counts as a \"yes\" to {named}, whatever the "
                "screening says.")
    return (f"The call type says: {implied.said}; that counts as \"{exclusion.text.rstrip('.')}\", so no unarmed "
            "team can take the call.")


def _why_not_open(program: Program, minute: int, availability: Mapping[str, bool] | None) -> str | None:
    """None if the program can take the call now, else PROGRAM_CLOSED or NO_UNIT_AVAILABLE."""
    if program.always_open:
        return None
    if not program.is_open(minute):
        return PROGRAM_CLOSED
    if availability is not None and not availability.get(program.code, True):
        return NO_UNIT_AVAILABLE
    return None


def _passed_over_text(rule: Rule, program: Program, why: str, clock: str) -> str:
    if why == PROGRAM_CLOSED:
        return f"{rule.text} But {program.code} is closed at {clock} (its hours: {program.hours_text})."
    return f"{rule.text} But no {program.code} unit is available within the maximum wait."


def _unknown_text(program: Program, unknown: tuple[str, ...]) -> str:
    asked = ", ".join(unknown)
    return f"Not sent to {program.code}: not answered yet: {asked} (an unknown answer never counts as no)."


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
