"""The call-taker's screen and "Why didn't HEART come?", through the app, on SQLite and PostgreSQL.

The live screens decide with the real clock. Tests that need HEART's programs open whatever the hour use
``all_day``: the Durham policy with every program open around the clock, as version 101, in a policies
folder of their own (HEART_POLICIES_DIR). Tests about hours call the service with a fixed time instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from heart.auth.models import Role
from heart.calls.models import Call, CallStatus
from heart.calls.service import record_screening
from heart.db import transaction, utcnow
from heart.events import Event
from heart.triage.policy import Policy, load_policy
from heart.triage.service import override_decision, policy_named, screening_at, triage_call
from tests import factories
from tests.conftest import REPO_ROOT, Account
from tests.factories import all_day_env, write_all_day_policy

DURHAM_FILE = REPO_ROOT / "cities" / "durham" / "policies" / "durham.yaml"
ALL_NO = {"weapon": "no", "medical_intervention": "no", "imminent_risk_to_others": "no"}
@pytest.fixture
def all_day(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Policy:
    path = write_all_day_policy(tmp_path / "policies")
    for name, value in all_day_env(path).items():
        monkeypatch.setenv(name, value)
    return load_policy(path)


def local(clock: str) -> datetime:
    return datetime.fromisoformat(f"2025-06-03T{clock}").replace(tzinfo=load_policy(DURHAM_FILE).timezone)


def screening_form(**answers: str) -> dict[str, str]:
    return {f"screening_{q}": a for q, a in answers.items()}


def recommended(html: str) -> str:
    found = re.search(r'id="recommended-pathway">(\w+)<', html)
    assert found, html
    return found.group(1)


def on_record(html: str) -> str:
    found = re.search(r'id="pathway">(\w+)<', html)
    assert found, html
    return found.group(1)


def new_call(client: TestClient, **form: str) -> int:
    response = client.post("/calls/new", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert re.fullmatch(r"/calls/\d+/triage", location)
    return int(location.split("/")[2])


def count(sessions: sessionmaker[Session], query: object) -> int:
    with sessions() as session:
        return int(session.scalar(query) or 0)  # type: ignore[call-overload]


def test_the_new_call_screen_asks_the_policy_questions_in_its_order(
    signed_in: Callable[..., TestClient], all_day: Policy
) -> None:
    client = signed_in(Role.CALL_TAKER)
    html = client.get("/calls/new").text
    legends = re.findall(r"<legend>\d+\. (.+?) <span", html)
    assert legends == [q.prompt for q in all_day.questions]
    for field in ("nature_code", "incident_type", "priority", "address", "summary"):
        assert f'<label for="{field}">' in html
    assert 'aria-live="polite"' in html and 'hx-post="/triage/preview"' in html


def test_the_recommendation_follows_the_answers_without_saving_anything(
    signed_in: Callable[..., TestClient], all_day: Policy, sessions: sessionmaker[Session]
) -> None:
    client = signed_in(Role.CALL_TAKER)
    call = {"nature_code": "SUICIDE THREAT", "priority": "2"}
    safe = client.post("/triage/preview", data={**call, **screening_form(**ALL_NO)})
    assert recommended(safe.text) == "CRT"
    assert "Answering these could change it" in safe.text  # the caller might talk with a clinician (CCD)
    weapon = client.post("/triage/preview", data={**call, **screening_form(**{**ALL_NO, "weapon": "yes"})})
    assert recommended(weapon.text) == "COR" and "crisis-trained officer" in weapon.text
    unknown = client.post("/triage/preview", data={"nature_code": "PANHANDLER"})
    assert recommended(unknown.text) == "PD" and "never counts as no" in unknown.text
    assert count(sessions, select(func.count(Call.id))) == 0


def test_a_busy_program_is_passed_over_and_says_so(
    signed_in: Callable[..., TestClient], all_day: Policy, sessions: sessionmaker[Session]
) -> None:
    now = utcnow()
    with transaction(sessions) as session:
        crt = factories.program(session, "CRT", now=now)
        factories.unit(session, crt, "CRT-1", now=now, on_duty=False)
    client = signed_in(Role.CALL_TAKER)
    form = {"nature_code": "SUICIDE THREAT", **screening_form(**ALL_NO)}
    busy = client.post("/triage/preview", data=form).text
    assert recommended(busy) == "COR" and "No CRT unit is on duty and free now" in busy
    with transaction(sessions) as session:
        factories.unit(session, crt, "CRT-2", now=now)
    assert recommended(client.post("/triage/preview", data=form).text) == "CRT"


def test_a_call_is_saved_decided_and_handed_to_dispatch_once(
    signed_in: Callable[..., TestClient], all_day: Policy, sessions: sessionmaker[Session]
) -> None:
    client = signed_in(Role.CALL_TAKER)
    call_id = new_call(client, nature_code="CHECK WELFARE", priority="3", address="101 City Hall Plaza",
                       **screening_form(**ALL_NO, phone_ok="no"))
    screen = client.get(f"/calls/{call_id}/triage").text
    assert on_record(screen) == "CRT" and "Hand to dispatch: CRT" in screen
    for _ in range(2):  # a double submit hands it over once
        handed = client.post(f"/calls/{call_id}/triage/hand-off", follow_redirects=False)
        assert handed.status_code == 303 and handed.headers["location"] == f"/calls/{call_id}"
    kinds = select(func.count(Event.id)).where(Event.call_id == call_id, Event.kind == "triage.handed_to_dispatch")
    assert count(sessions, kinds) == 1
    page = client.get(f"/calls/{call_id}").text
    assert "Handed to dispatch" in page and 'id="call-status">triaged<' in page


def test_a_phone_call_is_resolved_with_its_outcome(
    signed_in: Callable[..., TestClient], all_day: Policy, sessions: sessionmaker[Session]
) -> None:
    client = signed_in(Role.CALL_TAKER)
    call_id = new_call(client, nature_code="CHECK WELFARE", **screening_form(**ALL_NO, phone_ok="yes"))
    screen = client.get(f"/calls/{call_id}/triage").text
    assert on_record(screen) == "CCD" and "Resolve by phone" in screen and "Send a CRT team instead" in screen
    wrong = client.post(f"/calls/{call_id}/triage/resolve", data={"outcome": "vanished"})
    assert wrong.status_code == 422 and "outcome must be one of" in wrong.text
    for _ in range(2):
        done = client.post(f"/calls/{call_id}/triage/resolve", data={"outcome": "referred", "note": "food bank"},
                           follow_redirects=False)
        assert done.status_code == 303
    with sessions() as session:
        call = session.get(Call, call_id)
        assert call is not None and call.status == CallStatus.RESOLVED and call.closed_at is not None
        events = session.scalars(select(Event).where(Event.call_id == call_id,
                                                     Event.kind == "call.resolved_by_phone")).all()
        assert [e.after["outcome"] for e in events if e.after] == ["referred"]
    assert "Referred to a community service" in client.get(f"/calls/{call_id}").text


def test_the_phone_clinician_can_send_a_team_instead(
    signed_in: Callable[..., TestClient], all_day: Policy
) -> None:
    client = signed_in(Role.CALL_TAKER)
    call_id = new_call(client, nature_code="CHECK WELFARE", **screening_form(**ALL_NO, phone_ok="yes"))
    sent = client.post(f"/calls/{call_id}/triage/escalate", data={"reason": "needs a visit"}, follow_redirects=False)
    assert sent.status_code == 303
    screen = client.get(f"/calls/{call_id}/triage").text
    assert on_record(screen) == "CRT"
    assert "With dispatch" in screen and "Hand to dispatch" not in screen  # escalating is handing it over
    # The clinician's words are read like narrative: a supervisor reads them, a call-taker sees that one was given.
    assert "Escalated from CCD" not in screen and "(reason given)" in screen
    assert "Escalated from CCD: needs a visit" in signed_in(Role.SUPERVISOR).get(f"/calls/{call_id}").text


def test_an_override_needs_a_reason_and_never_sends_an_unarmed_team_past_an_exclusion(
    signed_in: Callable[..., TestClient], all_day: Policy
) -> None:
    client = signed_in(Role.CALL_TAKER)
    call_id = new_call(client, nature_code="MENTAL HEALTH", priority="2",
                       **screening_form(weapon="unknown", medical_intervention="no", imminent_risk_to_others="no"))
    assert on_record(client.get(f"/calls/{call_id}/triage").text) == "COR"
    unsafe = client.post(f"/calls/{call_id}/triage/override", data={"pathway": "CRT", "reason": "seems calm"})
    assert unsafe.status_code == 409 and "weapon: unknown (not answered no)" in unsafe.text
    blank = client.post(f"/calls/{call_id}/triage/override", data={"pathway": "PD", "reason": "  "})
    assert blank.status_code == 422 and "needs a reason" in blank.text
    done = client.post(f"/calls/{call_id}/triage/override", data={"pathway": "PD", "reason": "caller asked for police"},
                       follow_redirects=False)
    assert done.status_code == 303
    screen = client.get(f"/calls/{call_id}/triage").text
    assert on_record(screen) == "PD" and "Overridden</strong> from COR: (reason given)" in screen
    page = signed_in(Role.SUPERVISOR).get(f"/calls/{call_id}").text
    assert "Overridden</strong> from COR: caller asked for police" in page


def test_new_answers_are_saved_and_decided_again(
    signed_in: Callable[..., TestClient], all_day: Policy, sessions: sessionmaker[Session]
) -> None:
    client = signed_in(Role.CALL_TAKER)
    call_id = new_call(client, nature_code="SUICIDE THREAT", priority="2", **screening_form(**ALL_NO))
    preview = client.post(f"/calls/{call_id}/triage/preview", data=screening_form(**{**ALL_NO, "weapon": "yes"}))
    assert recommended(preview.text) == "COR"
    assert on_record(client.get(f"/calls/{call_id}/triage").text) == "CRT"  # a preview saves nothing
    saved = client.post(f"/calls/{call_id}/triage", data=screening_form(**{**ALL_NO, "weapon": "yes"}),
                        follow_redirects=False)
    assert saved.status_code == 303
    assert on_record(client.get(f"/calls/{call_id}/triage").text) == "COR"
    with sessions() as session:
        call = session.get(Call, call_id)
        assert call is not None and call.screening["weapon"] == "yes"


# --- why didn't HEART come? ---------------------------------------------------------------------------------

def decided_call(sessions: sessionmaker[Session], clock: str, *, nature_code: str = "CHECK WELFARE",
                 screening: dict[str, str] | None = None, availability: dict[str, bool] | None = None) -> int:
    at = local(clock)
    with transaction(sessions) as session:
        call = factories.call(session, now=at, nature_code=nature_code, screening=screening)
        triage_call(session=session, call_id=call.id, now=at, actor_id=None, availability=availability)
        return call.id


def why(client: TestClient, call_id: int) -> str:
    response = client.get(f"/calls/{call_id}/why")
    assert response.status_code == 200, response.text
    found = re.search(r'id="why-headline"[^>]*>([^<]+)<', response.text)
    assert found
    return found.group(1)


def test_why_names_the_closed_program_its_hours_and_the_policy_version(
    signed_in: Callable[..., TestClient], sessions: sessionmaker[Session]
) -> None:
    call_id = decided_call(sessions, "23:30")
    client = signed_in(Role.SUPERVISOR)
    assert why(client, call_id) == "CRT was closed at 23:30 (its hours: 10:00-22:00), so the call went to PD."
    page = client.get(f"/calls/{call_id}/why").text
    assert f"durham version {policy_named(None).version}" in page and "CRT was closed when the call was decided" in page
    assert "Durham Community Safety Department (HEART)" in page  # the stored policy text
    assert signed_in(Role.CALL_TAKER).get(f"/calls/{call_id}/why").status_code == 403
    assert signed_in(Role.ADMIN).get(f"/calls/{call_id}/why").status_code == 200


def test_why_says_when_no_unit_was_free(signed_in: Callable[..., TestClient], sessions: sessionmaker[Session]) -> None:
    call_id = decided_call(sessions, "14:00", availability={"CRT": False})
    assert why(signed_in(Role.SUPERVISOR), call_id) == "No CRT unit was on duty and free, so the call went to PD."


def test_why_explains_unknown_answers_overrides_and_a_heart_response(
    signed_in: Callable[..., TestClient], sessions: sessionmaker[Session], make_user: Callable[..., Account]
) -> None:
    unknown = decided_call(sessions, "13:00", nature_code="PANHANDLER",
                           screening={"medical_intervention": "no", "imminent_risk_to_others": "no"})
    sent = decided_call(sessions, "13:00")
    overridden = decided_call(sessions, "13:00")
    with transaction(sessions) as session:
        override_decision(session=session, call_id=overridden, pathway="PD", reason="known to carry a knife",
                          now=local("13:05"), actor_id=make_user(Role.CALL_TAKER).user_id)
    client = signed_in(Role.SUPERVISOR)
    assert why(client, unknown).startswith("Not every safety question was answered no (weapon)")
    assert why(client, sent) == "HEART was sent: the call went to CRT."
    assert why(client, overridden) == "A person sent the call to PD instead of CRT: known to carry a knife"
    # An administrator may open the page but not read a person's reason: it says one was given.
    admin = signed_in(Role.ADMIN)
    assert why(admin, overridden) == "A person sent the call to PD instead of CRT: (reason given)"
    assert "knife" not in admin.get(f"/calls/{overridden}/why").text


def test_why_names_the_exclusion_that_kept_the_team_away(
    signed_in: Callable[..., TestClient], sessions: sessionmaker[Session]
) -> None:
    armed = decided_call(sessions, "13:00", screening={**ALL_NO, "weapon": "yes"})
    assert why(signed_in(Role.SUPERVISOR), armed) == (
        "CRT takes this kind of call, but an exclusion held when it was decided (Someone has a weapon), so no unarmed "
        "team could go and the call went to PD.")


def test_the_answers_shown_are_those_the_decision_was_made_on(sessions: sessionmaker[Session]) -> None:
    call_id = decided_call(sessions, "13:00")
    with transaction(sessions) as session:
        record_screening(session=session, call_id=call_id, answers={"weapon": "yes"}, now=local("13:10"),
                         actor_id=None)
        assert screening_at(session=session, call_id=call_id, at=local("13:00")) == ALL_NO
        assert screening_at(session=session, call_id=call_id, at=local("13:20")) == {**ALL_NO, "weapon": "yes"}
