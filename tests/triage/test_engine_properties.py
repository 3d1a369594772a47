"""Safety invariants of the triage engine, checked by Hypothesis over generated calls."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from heart.crosswalk.taxonomy import INCIDENT_TYPES
from heart.triage.engine import CallFacts, Decision, decide
from heart.triage.policy import load_policy

POLICY = load_policy(Path(__file__).resolve().parents[2] / "cities" / "durham" / "policies" / "durham.yaml")
UNARMED = frozenset(code for code, program in POLICY.programs.items() if program.unarmed)
CRISIS = POLICY.type_sets["crisis"]
NATURE_CODES = ["SUICIDAL SUBJECT", "MENTAL HEALTH", "CHECK WELFARE", "UNWANTED PERSON", "ASSAULT", "IVC", "FIRE"]

answers = st.sampled_from(["yes", "no", "unknown", "YES", " no", "No ", "maybe", ""])
screenings = st.dictionaries(st.sampled_from(POLICY.question_ids), answers)
incident_types = st.one_of(
    st.sampled_from(sorted(POLICY.type_sets["crt_eligible"] | CRISIS)),  # the calls where safety matters most
    st.sampled_from(sorted(INCIDENT_TYPES)),
    st.sampled_from([None, "not_a_type"]),
)
nature_codes = st.one_of(st.none(), st.sampled_from(NATURE_CODES), st.text(max_size=12))
priorities = st.sampled_from(["P", "p", "1", "2", "3", "4", None])
moments = st.datetimes(
    min_value=datetime(2022, 1, 1),
    max_value=datetime(2030, 12, 31),
    timezones=st.sampled_from([UTC, ZoneInfo("America/New_York"), ZoneInfo("Asia/Tokyo")]),
)
availabilities = st.one_of(st.none(), st.dictionaries(st.sampled_from(["CRT", "CCD", "COR"]), st.booleans()))
calls = st.builds(
    CallFacts, nature_code=nature_codes, incident_type=incident_types, priority=priorities, screening=screenings
)


def said(facts: CallFacts, question: str) -> str:
    value = facts.screening.get(question)
    value = "" if value is None else value.strip().lower()
    return value if value in ("yes", "no") else "unknown"


def program_can_take(code: str, at: datetime, availability: Mapping[str, bool] | None) -> bool:
    local = at.astimezone(POLICY.timezone)
    is_open = POLICY.programs[code].is_open(local.hour * 60 + local.minute)
    return is_open and (availability is None or availability.get(code, True))


@settings(max_examples=600, deadline=None)
@given(facts=calls, at=moments, availability=availabilities)
def test_an_exclusion_never_sends_an_unarmed_team(
    facts: CallFacts, at: datetime, availability: Mapping[str, bool] | None
) -> None:
    decision = decide(facts, POLICY, at, availability)
    excluded = any(said(facts, q) == "yes" for q in POLICY.exclusion_questions)
    if excluded or (facts.priority or "").upper() == "P":
        assert decision.pathway not in UNARMED


@settings(max_examples=600, deadline=None)
@given(facts=calls, at=moments, availability=availabilities)
def test_an_unanswered_exclusion_question_never_counts_as_no(
    facts: CallFacts, at: datetime, availability: Mapping[str, bool] | None
) -> None:
    decision = decide(facts, POLICY, at, availability)
    if decision.pathway in UNARMED:
        assert all(said(facts, q) == "no" for q in POLICY.exclusion_questions)


@settings(max_examples=400, deadline=None)
@given(
    incident_type=st.sampled_from(sorted(CRISIS)),
    screening=screenings,
    priority=st.sampled_from(["1", "2", "3", "4", None]),
    at=moments,
    availability=availabilities,
)
def test_a_weapon_on_a_crisis_call_goes_to_co_response_when_it_is_open(
    incident_type: str,
    screening: dict[str, str],
    priority: str | None,
    at: datetime,
    availability: Mapping[str, bool] | None,
) -> None:
    facts = CallFacts(incident_type=incident_type, priority=priority, screening={**screening, "weapon": "yes"})
    decision = decide(facts, POLICY, at, availability)
    if program_can_take("COR", at, availability):
        assert decision.pathway == "COR"
    else:
        assert decision.pathway == "PD"
        assert decision.fallback_program == "COR"


@settings(max_examples=400, deadline=None)
@given(facts=calls, at=moments, availability=availabilities)
def test_unarmed_teams_only_when_open_and_free(
    facts: CallFacts, at: datetime, availability: Mapping[str, bool] | None
) -> None:
    decision = decide(facts, POLICY, at, availability)
    if decision.pathway in POLICY.programs and not POLICY.programs[decision.pathway].always_open:
        assert program_can_take(decision.pathway, at, availability)


@settings(max_examples=400, deadline=None)
@given(facts=calls, at=moments, availability=availabilities)
def test_every_decision_is_well_formed(facts: CallFacts, at: datetime, availability: Mapping[str, bool] | None) -> None:
    decision = decide(facts, POLICY, at, availability)
    assert isinstance(decision, Decision) and decision.pathway in POLICY.programs
    assert (decision.policy, decision.version) == (POLICY.id, POLICY.version)
    assert decision.reasons[-1].rule == decision.rule and all(r.text for r in decision.reasons)
    order = [q for q in POLICY.question_ids if q in decision.unanswered]
    assert list(decision.unanswered) == order
    assert all(said(facts, q) == "unknown" for q in decision.unanswered)
    assert (decision.fallback_reason is None) == (decision.fallback_program is None)
    assert decision == decide(facts, POLICY, at, availability)
