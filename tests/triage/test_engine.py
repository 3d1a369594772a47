"""The triage engine on single calls: hours, availability, unknown answers, reasons and the JSON contract."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from heart.errors import InvalidInput
from heart.triage.engine import NO_UNIT_AVAILABLE, PROGRAM_CLOSED, CallFacts, Decision, decide
from heart.triage.policy import Policy, load_policy

DURHAM = Path(__file__).resolve().parents[2] / "cities" / "durham" / "policies" / "durham.yaml"
EASTERN = ZoneInfo("America/New_York")
ALL_NO = {"weapon": "no", "medical_intervention": "no", "imminent_risk_to_others": "no"}


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy(DURHAM)


def local(clock: str, day: str = "2025-06-03") -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=EASTERN)


def call(incident_type: str, priority: str | None = "3", **screening: str) -> CallFacts:
    return CallFacts(incident_type=incident_type, priority=priority, screening=screening)


def test_eligible_call_with_every_exclusion_answered_no_goes_to_crt(policy: Policy) -> None:
    decision = decide(call("trespass_unwanted", **ALL_NO), policy, local("13:00"))
    assert (decision.pathway, decision.rule, decision.unanswered) == ("CRT", "crt_eligible", ())
    assert decision.fallback_reason is None and decision.policy == "durham" and decision.version == policy.version


@pytest.mark.parametrize(
    ("clock", "pathway"), [("09:59", "PD"), ("10:00", "CRT"), ("21:59", "CRT"), ("22:00", "PD"), ("03:00", "PD")]
)
def test_crt_hours_edges(policy: Policy, clock: str, pathway: str) -> None:
    decision = decide(call("panhandling", **ALL_NO), policy, local(clock))
    assert decision.pathway == pathway
    if pathway == "PD":
        assert (decision.fallback_reason, decision.fallback_program) == (PROGRAM_CLOSED, "CRT")
        assert any("CRT is closed at" in reason.text for reason in decision.reasons)


def test_time_is_converted_to_the_city_zone(policy: Policy) -> None:
    """14:30 UTC is 10:30 in Durham in summer (CRT open) and 09:30 in winter (CRT closed)."""
    summer = decide(call("welfare_check", **ALL_NO), policy, datetime(2025, 7, 1, 14, 30, tzinfo=UTC))
    winter = decide(call("welfare_check", **ALL_NO), policy, datetime(2025, 1, 7, 14, 30, tzinfo=UTC))
    assert (summer.pathway, winter.pathway) == ("CRT", "PD")


def test_naive_time_is_refused(policy: Policy) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        decide(call("welfare_check"), policy, datetime(2025, 6, 3, 12, 0))


def test_no_unit_free_falls_back_with_the_reason(policy: Policy) -> None:
    busy = {"CRT": False}
    decision = decide(call("trespass_unwanted", **ALL_NO), policy, local("13:00"), busy)
    assert (decision.pathway, decision.fallback_reason, decision.fallback_program) == ("PD", NO_UNIT_AVAILABLE, "CRT")
    assert decision.to_json()["fallback"] == {"reason": NO_UNIT_AVAILABLE, "program": "CRT"}
    assert "no CRT unit is available" in decision.reasons[1].text


def test_crisis_call_goes_to_co_response_when_crt_cannot(policy: Policy) -> None:
    busy = decide(call("suicide_threat", **ALL_NO), policy, local("13:00"), {"CRT": False})
    early = decide(call("suicide_threat", **ALL_NO), policy, local("07:00"))
    assert (busy.pathway, busy.fallback_reason) == ("COR", NO_UNIT_AVAILABLE)
    assert (early.pathway, early.fallback_reason) == ("COR", PROGRAM_CLOSED)
    night = decide(call("suicide_threat", **ALL_NO), policy, local("23:30"))
    assert (night.pathway, night.fallback_program) == ("PD", "CRT")


def test_weapon_on_crisis_call_goes_to_co_response_while_open(policy: Policy) -> None:
    facts = call("suicide_threat", **{**ALL_NO, "weapon": "yes"})
    assert decide(facts, policy, local("14:00")).pathway == "COR"
    closed = decide(facts, policy, local("21:30"))
    assert (closed.pathway, closed.fallback_reason, closed.fallback_program) == ("PD", PROGRAM_CLOSED, "COR")
    busy = decide(facts, policy, local("14:00"), {"COR": False})
    assert (busy.pathway, busy.fallback_reason) == ("PD", NO_UNIT_AVAILABLE)


def test_violent_history_sends_a_crisis_call_to_co_response(policy: Policy) -> None:
    decision = decide(call("mental_health_crisis", **ALL_NO, violent_history="yes"), policy, local("12:00"))
    assert (decision.pathway, decision.rule) == ("COR", "crisis_safety")


def test_ivc_order_goes_to_co_response(policy: Policy) -> None:
    assert decide(call("ivc_order"), policy, local("09:00")).pathway == "COR"
    answered = decide(call("mental_health_crisis", **ALL_NO, ivc_order="yes"), policy, local("12:00"))
    assert (answered.pathway, answered.rule) == ("COR", "ivc_answer")


def test_medical_need_goes_to_ems(policy: Policy) -> None:
    decision = decide(call("intoxicated_person", **{**ALL_NO, "medical_intervention": "yes"}), policy, local("12:00"))
    assert decision.pathway == "EMS"
    assert decide(call("overdose", priority="P"), policy, local("12:00")).pathway == "EMS"
    assert decide(call("fire", priority="P"), policy, local("12:00")).pathway == "FIRE"


def test_priority_p_and_violent_crime_go_to_police(policy: Policy) -> None:
    assert decide(call("welfare_check", priority="P", **ALL_NO), policy, local("12:00")).rule == "priority_p"
    assert decide(call("assault", **ALL_NO), policy, local("12:00")).rule == "police_type"


def test_phone_resolution_goes_to_ccd_which_can_escalate_to_crt(policy: Policy) -> None:
    decision = decide(call("welfare_check", **ALL_NO, phone_ok="yes"), policy, local("08:00"))
    assert (decision.pathway, decision.escalates_to) == ("CCD", "CRT")
    not_by_phone = decide(call("trespass_unwanted", **ALL_NO, phone_ok="yes"), policy, local("12:00"))
    assert not_by_phone.pathway == "CRT"


def test_unknown_answer_is_never_no(policy: Policy) -> None:
    decision = decide(call("panhandling", weapon="unknown", medical_intervention="no"), policy, local("13:00"))
    assert decision.pathway == "PD"
    assert decision.unanswered == ("weapon", "imminent_risk_to_others")
    assert any("never counts as no" in reason.text for reason in decision.reasons)


def test_unanswered_lists_only_questions_that_could_change_the_pathway(policy: Policy) -> None:
    # At 01:30 no team is open: only a medical need (EMS) would change where the call goes.
    night = decide(call("welfare_check"), policy, local("01:30"))
    assert (night.pathway, night.unanswered) == ("PD", ("medical_intervention",))
    # An assault goes to the police whatever the answers.
    assert decide(call("assault"), policy, local("12:00")).unanswered == ()
    # A suicide threat at noon with nothing asked yet: the order is the call-taker's order.
    noon = decide(call("suicide_threat"), policy, local("12:00"))
    assert noon.pathway == "COR"
    assert noon.unanswered == ("weapon", "medical_intervention", "imminent_risk_to_others", "phone_ok")


def test_answers_are_read_leniently_but_anything_else_is_unknown(policy: Policy) -> None:
    loose = call("trespass_unwanted", weapon=" NO ", medical_intervention="No", imminent_risk_to_others="no")
    assert decide(loose, policy, local("13:00")).pathway == "CRT"
    vague = call("trespass_unwanted", weapon="probably not", medical_intervention="no", imminent_risk_to_others="no")
    assert decide(vague, policy, local("13:00")).unanswered == ("weapon",)


def test_incident_type_comes_from_the_nature_code_or_is_other(policy: Policy) -> None:
    by_code = decide(CallFacts(nature_code="CHECK WELFARE", screening=ALL_NO), policy, local("12:00"))
    assert (by_code.incident_type, by_code.pathway) == ("welfare_check", "CRT")
    assert by_code.reasons[0].rule == "nature_code" and "Welfare check" in by_code.reasons[0].text
    unknown = decide(CallFacts(nature_code="ZZ TOP", screening=ALL_NO), policy, local("12:00"))
    assert (unknown.incident_type, unknown.pathway, unknown.rule) == ("other", "PD", "default_police")
    odd = decide(CallFacts(incident_type="not_a_type", screening=ALL_NO), policy, local("12:00"))
    assert odd.incident_type == "other"
    both = decide(
        CallFacts(nature_code="ASSAULT", incident_type="welfare_check", screening=ALL_NO), policy, local("12:00")
    )
    assert both.incident_type == "welfare_check"  # a reviewed incident type wins over the CAD's words


def test_the_nature_code_resolver_is_pluggable(policy: Policy) -> None:
    def crosswalk(code: str) -> str | None:
        return {"10-96": "mental_health_crisis"}.get(code)

    decision = decide(CallFacts(nature_code="10-96", screening=ALL_NO), policy, local("12:00"), resolver=crosswalk)
    assert (decision.incident_type, decision.pathway) == ("mental_health_crisis", "CRT")


def test_to_json_follows_the_contract(policy: Policy) -> None:
    decision = decide(call("trespass_unwanted", **ALL_NO), policy, local("13:00"))
    document = decision.to_json()
    assert list(document) == ["pathway", "policy", "version", "reasons", "unanswered", "fallback"]
    assert document["pathway"] == "CRT" and document["policy"] == "durham" and document["version"] == policy.version
    assert all(set(reason) == {"rule", "text"} and reason["text"] for reason in document["reasons"])
    assert document["unanswered"] == [] and document["fallback"] is None
    assert decision.fallback is None


def test_call_facts_from_the_cli_document() -> None:
    facts = CallFacts.from_doc({"nature_code": "SUICIDE THREAT", "priority": "p", "screening": {"weapon": "YES"}})
    assert (facts.priority, facts.screening) == ("P", {"weapon": "yes"})
    assert CallFacts.from_doc({"incident_type": "welfare_check", "priority": 2}).priority == "2"


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ({"priority": "5"}, "priority"),
        ({"screening": {"weapon": "maybe"}}, "screening.weapon"),
        ({"screening": ["weapon"]}, "screening"),
        ({"nature_code": 12}, "nature_code"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_call_facts_refuse_wrong_values(doc: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        CallFacts.from_doc(doc)
    assert raised.value.field == field


def test_a_decision_is_pure(policy: Policy) -> None:
    screening = {"weapon": "no"}
    facts = CallFacts(incident_type="welfare_check", priority="3", screening=screening)
    first, second = decide(facts, policy, local("12:00")), decide(facts, policy, local("12:00"))
    assert first == second and isinstance(first, Decision)
    assert screening == {"weapon": "no"}


@pytest.mark.parametrize(("facts", "excluded", "held"), [
    (call("welfare_check", **{**ALL_NO, "weapon": "yes"}), "CRT", ("weapon",)),
    (call("mental_health_crisis", **{**ALL_NO, "weapon": "yes", "imminent_risk_to_others": "yes"}), "CRT",
     ("weapon", "imminent_risk_to_others")),
    (call("panhandling", priority="P", **ALL_NO), "CRT", ("priority_p",)),
    (CallFacts(nature_code="TRESPASS WITH KNIFE", incident_type="trespass_unwanted", priority="3", screening=ALL_NO),
     "CRT", ("weapon",)),  # the words name a weapon whatever the screening says
    (CallFacts(nature_code="TRESPASS WITH KNIFE", priority="3", screening=ALL_NO), None, ()),  # a weapon call type
    (call("welfare_check", **{**ALL_NO, "weapon": "unknown"}), None, ()),  # unknown is not an exclusion held
    (call("welfare_check", **ALL_NO), None, ()),  # nothing held: CRT takes it
    (call("person_with_weapon", **{**ALL_NO, "weapon": "yes"}), None, ()),  # never CRT's type
    (call("welfare_check", **{**ALL_NO, "weapon": "yes", "phone_ok": "yes"}), "CCD", ("weapon",)),
])
def test_a_decision_records_the_unarmed_team_an_exclusion_kept_from_the_call(
    policy: Policy, facts: CallFacts, excluded: str | None, held: tuple[str, ...],
) -> None:
    """The team whose rule takes the call's type, and the exclusions that held — at any hour (hours aside)."""
    for clock in ("13:00", "03:00"):
        decision = decide(facts, policy, local(clock))
        assert (decision.excluded_pathway, decision.exclusions) == (excluded, held), clock
        assert decision.pathway not in ("CRT", "CCD") or excluded is None
