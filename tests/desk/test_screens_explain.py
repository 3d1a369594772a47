"""Screens that explain themselves: plain words on the call page, HTML error pages, inputs that carry their limits,
and a refused action that keeps what was typed."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from heart.auth.models import Role
from heart.db import transaction
from heart.dispatch import service
from heart.encounters.service import append_narrative
from tests.dispatch.scenario import world

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
HTML = {"Accept": "text/html"}


def test_the_call_page_shows_summary_decision_words_and_timeline(
    signed_in: Callable[..., TestClient], sessions: sessionmaker[Session],
) -> None:
    w = world(sessions, "CRT")
    w.add_unit("CRT", "CRT-1")
    call_id = w.add_call(address="12 Main St", summary="Man pacing outside the library, talking to himself")
    with transaction(sessions) as session:
        service.assign_unit(session=session, call_id=call_id, unit_id=w.units["CRT-1"], at=w.now, now=w.now,
                            by=w.dispatcher)
    client = signed_in(Role.SUPERVISOR)
    page = client.get(f"/calls/{call_id}").text
    assert "Man pacing outside the library" in page
    assert "crt_eligible" not in page and "<code>" not in page  # the policy's words, not its rule ids
    assert "Unit sent · CRT-1" in page or "Unit sent" in page
    assert "Handed to dispatch" in page
    noted = client.post(f"/calls/{call_id}/notes", data={"text": "Library staff will meet the team"},
                        follow_redirects=False)
    assert noted.status_code == 303
    page = client.get(f"/calls/{call_id}").text
    assert "Library staff will meet the team" in page and "Note by" in page


def test_narrative_shows_only_to_the_roles_that_read_it(
    signed_in: Callable[..., TestClient], sessions: sessionmaker[Session],
) -> None:
    from heart.dispatch.schemas import ClearResponse

    w = world(sessions, "CRT")
    w.add_unit("CRT", "CRT-1")
    call_id = w.add_call()
    with transaction(sessions) as session:
        response = service.assign_unit(session=session, call_id=call_id, unit_id=w.units["CRT-1"], at=w.now,
                                       now=w.now, by=w.dispatcher)
        service.mark_on_scene(session=session, response_id=response.id, at=w.now, now=w.now, by=w.dispatcher)
        service.clear_response(session=session, response_id=response.id, at=w.now, now=w.now, by=w.dispatcher,
                               outcome=ClearResponse(disposition="resolved on scene", team_felt_safe=True,
                                                     pd_backup_for_safety=False, ems_support=False))
        from sqlalchemy import select

        from heart.encounters.models import Encounter

        encounter_id = session.scalar(select(Encounter.id))
        assert encounter_id is not None
        append_narrative(session=session, encounter_id=encounter_id, text="Walked him to the shelter",
                         client_token="narr-0001", at=w.now, actor_id=None)
    assert "Walked him to the shelter" in signed_in(Role.SUPERVISOR).get(f"/calls/{call_id}").text
    assert "Walked him to the shelter" not in signed_in(Role.DISPATCHER).get(f"/calls/{call_id}").text


def test_pages_answer_error_pages_and_the_api_keeps_json(signed_in: Callable[..., TestClient]) -> None:
    client = signed_in(Role.DISPATCHER)
    missing = client.get("/no-such-screen", headers=HTML)
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    assert "There is no page at this address" in missing.text
    bad = client.get("/calls/not-a-number", headers=HTML)
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("text/html")
    assert "cannot be used" in bad.text and "call id" in bad.text
    forbidden = client.get("/metrics", headers=HTML)
    assert forbidden.status_code == 403 and "Not allowed" in forbidden.text
    assert client.get("/api/calls/not-a-number").json()["detail"][0]["loc"] == ["path", "call_id"]
    assert client.get("/api/no-such-thing").json() == {"detail": "Not Found"}


def test_a_refused_override_keeps_the_typed_reason(signed_in: Callable[..., TestClient],
                                                   sessions: sessionmaker[Session]) -> None:
    w = world(sessions, "CRT")
    call_id = w.add_call(hand_off=False, screening={"weapon": "yes"})
    client = signed_in(Role.CALL_TAKER)
    typed = "Caller now says the knife was put away; <team> knows him"
    refused = client.post(f"/calls/{call_id}/triage/override", data={"pathway": "CRT", "reason": typed,
                                                                      "_form": "override"})
    assert refused.status_code == 409
    assert "Caller now says the knife was put away; &lt;team&gt; knows him</textarea>" in refused.text
    assert re.search(r'<option value="CRT" selected>', refused.text)


@pytest.mark.parametrize("path", ["/calls/new", "/calls", "/dispatch"])
def test_every_text_input_carries_its_length_limit(signed_in: Callable[..., TestClient],
                                                   sessions: sessionmaker[Session], path: str) -> None:
    w = world(sessions, "CRT")
    w.add_unit("CRT", "CRT-1")
    call_id = w.add_call()
    with transaction(sessions) as session:
        service.assign_unit(session=session, call_id=call_id, unit_id=w.units["CRT-1"], at=w.now, now=w.now,
                            by=w.dispatcher)
    w.add_call()
    page = signed_in(Role.SUPERVISOR).get(path).text
    fields = re.findall(r"<(?:input|textarea)\b[^>]*>", page)
    typed = [f for f in fields if not re.search(r'type="(hidden|checkbox|radio|date|submit|datetime-local)"', f)]
    assert typed, "no text field found"
    assert [f for f in typed if "maxlength=" not in f] == []
