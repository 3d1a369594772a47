"""Residents' forms: a request for an event and a volunteer sign-up are checked with clear messages (what was typed
is kept), guarded against programs (honeypot, too fast, forged, another site) and rate-limited per client (a 429
page); a good one is saved, confirmed, and logged without its contact details."""

from __future__ import annotations

import html
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from heart.config import Settings
from heart.events import Event
from heart.main import create_app
from heart.public.models import EngagementRequest, InterestSignup, PublicFormAttempt, RequestStatus
from tests.public.conftest import ORIGIN, form_token, send

NAME, EMAIL, PHONE = "Philomena Quartermaine-Oyelaran", "philomena.q@example.org", "919-555-0177"
PLACE, NOTE = "4417 Larkspur Court, Durham", "My son Theo has autism; <b>please</b> bring someone calm"


def event(**changes: str) -> dict[str, object]:
    form: dict[str, object] = {
        "event_date": (date.today() + timedelta(days=30)).isoformat(), "place": PLACE, "organization": "Larkspur HOA",
        "audience": "40", "message": NOTE, "name": NAME, "email": EMAIL, "phone": PHONE}
    form.update(changes)
    return form


def signup(**changes: object) -> dict[str, object]:
    form: dict[str, object] = {"interests": ["events", "translation"], "name": NAME, "email": EMAIL, "phone": "",
                               "message": NOTE}
    form.update(changes)
    return form


def test_a_request_for_an_event_is_saved_confirmed_and_its_event_holds_no_contact(
    client: TestClient, sessions: sessionmaker[Session],
) -> None:
    sent = send(client, "/public/request-event", event())
    assert sent.status_code == 303 and sent.headers["location"] == "/public/request-event/sent"
    confirmation = client.get(sent.headers["location"])
    assert confirmation.status_code == 200 and "we received it" in confirmation.text
    with sessions() as session:
        (saved,) = session.scalars(select(EngagementRequest)).all()
        assert (saved.name, saved.email, saved.phone, saved.place, saved.message) == (NAME, EMAIL, PHONE, PLACE, NOTE)
        assert saved.status == RequestStatus.NEW and saved.audience == 40
        events = session.scalars(select(Event).where(Event.kind.like("engagement.%"))).all()
    assert [e.kind for e in events] == ["engagement.request_received"]
    logged = repr([(e.before, e.after) for e in events])
    for personal in (NAME, EMAIL, PHONE, PLACE, "Theo"):
        assert personal not in logged


def test_a_volunteer_signs_up_with_the_citys_interests(client: TestClient, sessions: sessionmaker[Session]) -> None:
    page = client.get("/public/volunteer")
    assert "Translating or interpreting" in page.text  # the city's words (cities/durham/public/site.yaml)
    sent = send(client, "/public/volunteer", signup())
    assert sent.status_code == 303
    assert "volunteer interest list" in client.get(sent.headers["location"]).text
    with sessions() as session:
        (saved,) = session.scalars(select(InterestSignup)).all()
    assert saved.interests == "events,translation" and saved.phone is None


def test_bad_input_is_refused_field_by_field_and_what_was_typed_is_kept(
    client: TestClient, sessions: sessionmaker[Session],
) -> None:
    refused = send(client, "/public/request-event", event(
        email="philomena at example", event_date=date.today().isoformat(), audience="lots", phone="12",
        name="  "))
    assert refused.status_code == 422
    text = html.unescape(refused.text)
    assert "This does not look like an e-mail address" in text
    assert "The event must be after today" in text
    assert "The expected audience is a whole number" in text
    assert "A phone number has 7 to 15 digits" in text
    assert "Please tell us your name." in text
    assert 'aria-invalid="true"' in refused.text and 'href="#f-email"' in refused.text  # the summary links each
    assert 'value="philomena at example"' in refused.text and PLACE in text  # kept
    assert "&lt;b&gt;please&lt;/b&gt;" in refused.text and "<b>please</b>" not in refused.text  # kept, escaped
    none_chosen = send(client, "/public/volunteer", signup(interests=[]))
    assert none_chosen.status_code == 422 and "choose at least one way" in none_chosen.text
    invented = send(client, "/public/volunteer", signup(interests=["events", "hacking"]))
    assert invented.status_code == 422 and "only from the listed ways" in invented.text
    bad_date = send(client, "/public/request-event", event(event_date="14/05/2027"))
    assert "Please give the date as YYYY-MM-DD" in bad_date.text
    with sessions() as session:
        assert session.scalars(select(EngagementRequest)).all() == []
        assert session.scalars(select(InterestSignup)).all() == []


def test_the_honeypot_a_forged_token_and_another_site_are_refused(
    client: TestClient, sessions: sessionmaker[Session],
) -> None:
    trapped = send(client, "/public/request-event", event(website="http://cheap-pills.example"))
    assert trapped.status_code == 400 and "could not accept this form" in trapped.text
    assert NAME in trapped.text  # a person who filled it by mistake loses nothing
    token = form_token(client.get("/public/request-event"))
    forged = token.rsplit(".", 1)[0] + ".0123456789abcdef0123456789abcdef"
    refused = client.post("/public/request-event", data={"form_token": forged, **event()}, headers=ORIGIN)
    assert refused.status_code == 400 and "did not come from this site" in refused.text
    client.cookies.clear()  # a page of another site cannot send the browser's cookie with a token it cannot read
    no_cookie = client.post("/public/request-event", data={"form_token": token, **event()}, headers=ORIGIN)
    assert no_cookie.status_code == 400
    other_site = send(client, "/public/request-event", event(), origin="https://evil.example")
    assert other_site.status_code == 403
    with sessions() as session:
        assert session.scalars(select(EngagementRequest)).all() == []


@pytest.fixture
def slow_form_client(database_url: str, tmp_path: Path) -> TestClient:
    app = create_app(Settings(env="test", database_url=database_url, cookie_secure=False,
                              public_form_min_seconds=3600, public_cache_dir=tmp_path))
    return TestClient(app)


def test_a_form_sent_faster_than_a_person_types_is_shown_again(slow_form_client: TestClient,
                                                               sessions: sessionmaker[Session]) -> None:
    with slow_form_client as client:
        too_fast = send(client, "/public/volunteer", signup())
    assert too_fast.status_code == 400 and "That was very quick" in too_fast.text
    assert f'value="{EMAIL}"' in too_fast.text and 'value="events" checked' in too_fast.text
    with sessions() as session:
        assert session.scalars(select(InterestSignup)).all() == []


@pytest.fixture
def limited_client(database_url: str, tmp_path: Path) -> TestClient:
    app = create_app(Settings(env="test", database_url=database_url, cookie_secure=False, public_form_min_seconds=0,
                              public_form_limit=2, public_cache_dir=tmp_path))
    return TestClient(app)


def test_a_client_sending_too_many_forms_gets_a_429_page(limited_client: TestClient,
                                                         sessions: sessionmaker[Session]) -> None:
    with limited_client as client:
        assert send(client, "/public/volunteer", signup()).status_code == 303
        assert send(client, "/public/volunteer", signup(interests=[])).status_code == 422  # refused ones count too
        limited = send(client, "/public/request-event", event())
    assert limited.status_code == 429
    assert 0 < int(limited.headers["retry-after"]) <= 3600
    assert "Please try again in about" in limited.text
    with sessions() as session:
        assert len(session.scalars(select(InterestSignup)).all()) == 1
        assert session.scalars(select(EngagementRequest)).all() == []
        keys = session.scalars(select(PublicFormAttempt.client_key)).all()
    assert len(keys) == 2 and "testclient" not in keys[0]  # a keyed hash, never the address
