"""Personal data stays where it belongs (issue 10): free text lives once, in its record, read by the right roles.

Recognisable names, phone numbers and dates of birth are planted in every free-text field a person or a feed
can fill (call summary and address, override, escalation, cancel and strike reasons, the phone clinician's
note, narrative, transport destination, EIDO notes and location, the warm handoff to Care Navigation and a
navigator's note). Then every place that must not hold them
is scanned: the server log (every logger, at DEBUG), the events API, error answers (JSON 4xx and HTML error
pages), ``heart metrics`` (table and JSON) and the Parquet history export. The records themselves must
still hold every value, readable by the roles that read narrative and only by them; a caller (typed, or from an EIDO
call transfer) and a location safety note are kept in their own restricted records.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from heart.auth.models import Role
from heart.calls.callers import Caller
from heart.calls.models import Call
from heart.config import get_settings
from heart.db import transaction, utcnow
from heart.dispatch.models import Response
from heart.encounters.models import Encounter, NarrativeEntry
from heart.events import REASON_GIVEN
from heart.navigation.followups.models import FollowUp, FollowUpNote
from heart.neighbors.models import Neighbor
from heart.places.models import LocationNote
from heart.programs.models import Program
from heart.triage.models import TriageDecision
from tests import factories
from tests.calls.eido.documents import call_transfer, eido
from tests.conftest import Account, login

FIELDS = ("summary", "address", "override_reason", "escalation_reason", "cancel_reason", "strike_reason",
          "phone_note", "narrative", "narrative_appended", "transport_destination", "eido_notes",
          "eido_location", "handoff_name", "handoff_times", "handoff_note", "follow_up_note",
          "rejected_summary", "rejected_reason", "rejected_username", "eido_caller", "caller", "location_note")
SURNAMES = ("Quartermaine", "Vandersloot", "Okonkwo-Bright", "Featherstonehaugh", "Abernethy", "Castellanos",
            "Thistlewood", "Marchbanks", "Oyelaran", "Zabriskie", "Pennywhistle", "Haverbrook", "Ravenscroft",
            "Delacroix-Moss", "Winterbottom", "Ashcombe-Pryor", "Fairweather", "Blackwood-Ames", "Nightingale",
            "Cholmondeley", "Stonebridge", "Lockhart-Venn")


@dataclass
class Planted:
    """One recognisable name, phone number and date of birth per free-text field."""

    values: dict[str, str] = field(default_factory=dict)
    needles: dict[str, tuple[str, str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for n, (name, surname) in enumerate(zip(FIELDS, SURNAMES, strict=True)):
            person, phone, born = f"Rosalind {surname}", f"919-555-01{n:02d}", f"03/{n + 1:02d}/1961"
            self.needles[name] = (surname, phone, born)
            self.values[name] = f"{person} ({phone}, born {born}) said so"

    def __getitem__(self, name: str) -> str:
        return self.values[name]

    def found_in(self, text: str) -> list[str]:
        """The fields whose planted name, phone or birth date appear in ``text``."""
        return [name for name, needles in self.needles.items() if any(needle in text for needle in needles)]


ALL_NO = {"weapon": "no", "medical_intervention": "no", "imminent_risk_to_others": "no"}
CLEAR = {"pd_backup_for_safety": False, "ems_support": False, "disposition": "resolved on scene"}


@pytest.fixture
def people(make_user: Callable[..., Account], sessions: sessionmaker[Session]) -> dict[Role, Account]:
    now = utcnow()
    with transaction(sessions) as session:
        for code in ("CRT", "CCD"):
            factories.program(session, code, now=now)
        crt = session.scalars(select(Program).where(Program.code == "CRT")).one()
        unit_id = factories.unit(session, crt, "CRT-1", now=now).id
    return {role: make_user(role, unit_id=unit_id if role == Role.RESPONDER else None) for role in Role}


def _as(client: TestClient, account: Account) -> TestClient:
    client.cookies.clear()
    return login(client, account.username)


def _call(client: TestClient, **fields: object) -> int:
    created = client.post("/api/calls", json={"nature_code": "CHECK WELFARE", "priority": "3", **fields})
    assert created.status_code == 201, created.text
    assert client.post(f"/api/calls/{created.json()['id']}/triage", json={}).status_code == 201
    return int(created.json()["id"])


def _every_free_text_field_filled(client: TestClient, people: dict[Role, Account], planted: Planted,
                                  sessions: sessionmaker[Session]) -> dict[str, int]:
    """The flows of a shift, each free-text field filled once with its planted value; returns the calls."""
    _as(client, people[Role.CALL_TAKER])
    overridden = _call(client, summary=planted["summary"], address=planted["address"], screening=ALL_NO)
    assert client.post(f"/api/calls/{overridden}/triage/override",
                       json={"pathway": "PD", "reason": planted["override_reason"]}).status_code == 201
    phone = _call(client, screening={**ALL_NO, "phone_ok": "yes"})
    escalated = _call(client, screening={**ALL_NO, "phone_ok": "yes"})
    resolved = client.post(f"/calls/{phone}/triage/resolve", follow_redirects=False,
                           data={"outcome": "referred", "note": planted["phone_note"]})
    assert resolved.status_code == 303, resolved.text
    assert client.post(f"/api/calls/{escalated}/escalate",
                       json={"reason": planted["escalation_reason"]}).status_code == 201
    document = eido()
    document["notesComponent"][0]["notesActionComments"] = f"<p>{planted['eido_notes']}</p>"
    document["locationComponent"][0].pop("locationByValue")
    document["locationComponent"][0]["locationDescriptionText"] = planted["eido_location"]
    placed = _call(client, lat=35.9962, lon=-78.9100, screening=ALL_NO,
                   caller={"name": planted["caller"][:120], "callback": planted.needles["caller"][1]})
    noted = client.post(f"/api/calls/{placed}/location-notes", json={
        "kind": "weapon", "text": planted["location_note"], "observed_on": utcnow().date().isoformat()})
    assert noted.status_code == 201, noted.text
    fed = client.post("/api/eido", json=document)
    assert fed.status_code == 201, fed.text
    transfer = call_transfer(incident_id="urn:emergency:uid:incidentid:planted:psap.durhamnc.gov")
    caller = transfer["personComponent"][0]["ncPersonComponent"]["name"][0]
    caller["personSurName"] = [{"value": planted["eido_caller"]}]
    transfer["callbackComponent"][0]["callBackInformationUri"] = [f"tel:{planted.needles['eido_caller'][1]}"]
    assert client.post("/api/eido", json=transfer).status_code == 201

    _as(client, people[Role.DISPATCHER])
    field_call = _call(client, screening=ALL_NO)
    unit_id = client.get("/api/units").json()[0]["id"]
    first = client.post(f"/api/calls/{field_call}/responses", json={"unit_id": unit_id}).json()["id"]
    assert client.post(f"/api/responses/{first}/cancel",
                       json={"reason": planted["cancel_reason"]}).status_code == 200
    second = client.post(f"/api/calls/{field_call}/responses", json={"unit_id": unit_id}).json()["id"]

    _as(client, people[Role.RESPONDER])
    for step in ("en-route", "on-scene"):
        assert client.post(f"/api/responses/{second}/{step}", json={}).status_code == 200
    assert client.post(f"/api/responses/{second}/transport",
                       json={"destination": planted["transport_destination"]}).status_code == 200
    handoff = {"first_name": planted["handoff_name"][:80], "contact_times": planted["handoff_times"],
               "note": planted["handoff_note"]}
    cleared = client.post(f"/api/responses/{second}/clear", json={
        **CLEAR, "narrative": planted["narrative"], "consent_to_follow_up": True, "handoff": handoff})
    assert cleared.status_code == 200, cleared.text
    with sessions() as session:
        encounter_id = session.scalars(select(Encounter.id).where(Encounter.call_id == field_call)).one()
        follow_up_id = session.scalars(select(FollowUp.id).where(FollowUp.encounter_id == encounter_id)).one()
    entry = client.post(f"/api/encounters/{encounter_id}/narrative",
                        json={"text": planted["narrative_appended"], "client_token": "planted-1"}).json()["id"]
    struck = client.post(f"/api/encounters/{encounter_id}/narrative/{entry}/strike",
                         json={"reason": planted["strike_reason"]})
    assert struck.status_code == 200, struck.text
    _as(client, people[Role.NAVIGATOR])
    noted = client.post(f"/api/follow-ups/{follow_up_id}/notes",
                        json={"text": planted["follow_up_note"], "client_token": "planted-2"})
    assert noted.status_code == 201, noted.text
    return {"overridden": overridden, "phone": phone, "escalated": escalated, "field": field_call,
            "eido": int(fed.json()["call"]["id"]), "encounter": encounter_id, "placed": placed}


def _error_answers(client: TestClient, people: dict[Role, Account], planted: Planted, calls: dict[str, int]
                   ) -> list[tuple[int, str]]:
    """Requests a careless user or an attacker would send, each carrying planted values; their answers."""
    _as(client, people[Role.CALL_TAKER])
    answers = [
        client.post("/api/calls", json={"summary": planted["rejected_summary"], "priority": "urgent"}),
        client.post("/api/calls", json={"summary": planted["rejected_summary"] + "\u0000"}),
        client.post("/api/calls", json={"summary": planted["rejected_summary"] * 200}),
        client.post(f"/api/calls/{calls['overridden']}/triage/override",
                    json={"pathway": "NOWHERE", "reason": planted["rejected_reason"]}),
        client.post(f"/api/calls/{calls['field']}/triage/override",
                    json={"pathway": "PD", "reason": planted["rejected_reason"]}),
        client.post("/api/calls/424242/triage/override", json={"pathway": "PD", "reason": planted["rejected_reason"]}),
        client.post(f"/api/calls/{calls['overridden']}/triage", json={"policy": planted["rejected_reason"][:60]}),
        client.post(f"/api/encounters/{calls['encounter']}/narrative",
                    json={"text": planted["rejected_reason"], "client_token": "x"}),
        client.get(f"/calls/{calls['eido']}/why", headers={"accept": "text/html"}),
        client.get("/calls/424242", headers={"accept": "text/html"}),
        client.post("/api/follow-ups/424242/notes", json={"text": planted["rejected_reason"],
                                                          "client_token": "planted-3"}),
        client.post("/api/auth/login", json={"username": planted["rejected_username"][:60], "password": "nope"}),
        client.post("/api/eido", json={**call_transfer(), "callbackComponent": [
            {**call_transfer()["callbackComponent"][0], "callBackInformationUri": planted["eido_caller"]}]}),
    ]
    client.cookies.clear()
    answers.append(client.get(f"/api/calls/{calls['overridden']}/events"))
    statuses = [answer.status_code for answer in answers]
    assert all(400 <= status < 500 for status in statuses), statuses
    return [(answer.status_code, answer.text) for answer in answers]


def _outputs_of_commands(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """`heart metrics` as a table and as JSON, and the Parquet history export."""
    from heart.cli import app
    from heart.metrics.backends import open_database
    from heart.metrics.backends.duckdb import export_history

    monkeypatch.setenv("HEART_ENV", "development")
    monkeypatch.setenv("HEART_DATABASE_URL", database_url)
    get_settings.cache_clear()
    runner = CliRunner()
    outputs = []
    try:
        for options in ([], ["--format", "json"]):
            result = runner.invoke(app, ["metrics", *options])
            assert result.exit_code == 0, result.output
            outputs.append(result.output)
    finally:
        get_settings.cache_clear()
    import pyarrow.parquet as pq

    path = tmp_path / "history.parquet"
    with open_database(database_url) as source:
        assert export_history(source, path) >= 1
    outputs.append(json.dumps(pq.read_table(path).to_pylist(), default=str))
    return outputs


@pytest.fixture
def everything_logged(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every record of every logger at DEBUG, including those that do not propagate (uvicorn's)."""
    quiet = [logging.getLogger(name) for name in ("uvicorn", "uvicorn.error", "uvicorn.access")]
    for logger in quiet:
        logger.addHandler(caplog.handler)
    with caplog.at_level(logging.DEBUG):
        yield caplog
    for logger in quiet:
        logger.removeHandler(caplog.handler)


@pytest.mark.usefixtures("all_day_policy")
def test_planted_personal_data_stays_in_its_records_and_nowhere_else(
    client: TestClient, people: dict[Role, Account], sessions: sessionmaker[Session], database_url: str,
    everything_logged: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    planted = Planted()
    calls = _every_free_text_field_filled(client, people, planted, sessions)
    errors = _error_answers(client, people, planted, calls)

    # Stored once, with its record.
    with sessions() as session:
        stored = " | ".join(str(value) for value in (
            *session.scalars(select(Call.summary)), *session.scalars(select(Call.address)),
            *session.scalars(select(Call.resolution_note)),
            *session.scalars(select(NarrativeEntry.text)), *session.scalars(select(NarrativeEntry.strike_reason)),
            *session.scalars(select(TriageDecision.override_reason)),
            *session.scalars(select(Response.cancel_reason)),
            *session.scalars(select(Response.transport_destination)), *session.scalars(select(Neighbor.first_name)),
            *session.scalars(select(Neighbor.contact_times)), *session.scalars(select(FollowUpNote.text)),
            *session.scalars(select(Caller.name)), *session.scalars(select(Caller.callback)),
            *session.scalars(select(LocationNote.text))))
    kept = [name for name in FIELDS if not name.startswith("rejected")]
    assert sorted(planted.found_in(stored)) == sorted(kept)

    # The events API (as a supervisor, who may read everything) says "(reason given)" and copies nothing.
    supervisor = _as(client, people[Role.SUPERVISOR])
    events = [supervisor.get(f"/api/calls/{call_id}/events").json() for key, call_id in calls.items()
              if key != "encounter"]
    assert planted.found_in(json.dumps(events)) == []
    reasons = {(e["kind"], key): value for timeline in events for e in timeline
               for key, value in (e["after"] or {}).items() if key in ("reason", "override_reason", "note") and value}
    assert set(reasons.values()) == {REASON_GIVEN}
    assert {kind for kind, _ in reasons} == {"triage.overridden", "call.resolved_by_phone", "response.cancelled",
                                             "narrative.struck"}

    # The caller and the place's note are read (and logged) by those allowed; the reads copy nothing into the log.
    for path in (f"/api/calls/{calls['placed']}/caller", f"/api/calls/{calls['placed']}/place",
                 f"/calls/{calls['placed']}/place"):
        assert set(planted.found_in(supervisor.get(path).text)) & {"caller", "location_note"}

    # Error answers, JSON and HTML, never repeat what the request carried.
    leaked = {status: planted.found_in(text) for status, text in errors if planted.found_in(text)}
    assert leaked == {}

    # The log of the whole run, every logger at DEBUG (it did capture the run: each request is in it).
    assert "POST http://testserver/api/calls/" in everything_logged.text
    assert planted.found_in(everything_logged.text) == []

    # Figures and exports.
    for output in _outputs_of_commands(database_url, monkeypatch, tmp_path):
        assert planted.found_in(output) == []


@pytest.mark.usefixtures("all_day_policy")
def test_reasons_are_read_by_the_roles_that_read_narrative_and_only_by_them(
    client: TestClient, people: dict[Role, Account], sessions: sessionmaker[Session],
) -> None:
    planted = Planted()
    calls = _every_free_text_field_filled(client, people, planted, sessions)
    readers = {Role.RESPONDER, Role.NAVIGATOR, Role.SUPERVISOR}
    for role in (Role.CALL_TAKER, Role.DISPATCHER, Role.SUPERVISOR, Role.RESPONDER):
        reader = _as(client, people[role])
        decisions = reader.get(f"/api/calls/{calls['overridden']}/decisions")
        responses = reader.get(f"/api/calls/{calls['field']}/responses")
        page = reader.get(f"/calls/{calls['field']}").text + reader.get(f"/calls/{calls['phone']}").text
        if role == Role.RESPONDER:  # a responder sees their own unit's calls only
            assert decisions.status_code == 404
            assert responses.json()[0]["cancel_reason"] == planted["cancel_reason"]
            continue
        override = decisions.json()[-1]["override_reason"]
        cancel = responses.json()[0]["cancel_reason"]
        if role in readers:
            assert (override, cancel) == (planted["override_reason"], planted["cancel_reason"])
            assert {"cancel_reason", "phone_note"} <= set(planted.found_in(page))
        else:
            assert (override, cancel) == (REASON_GIVEN, REASON_GIVEN)
            assert planted.found_in(page) == [] and REASON_GIVEN in page
    # The "why" page: a supervisor reads the reason, an administrator (who may open the page) does not.
    why = {role: _as(client, people[role]).get(f"/calls/{calls['overridden']}/why").text
           for role in (Role.SUPERVISOR, Role.ADMIN)}
    assert planted.found_in(why[Role.SUPERVISOR]) == ["override_reason"]
    assert planted.found_in(why[Role.ADMIN]) == [] and REASON_GIVEN in why[Role.ADMIN]
    # Narrative (and its strike reason) for a navigator, who reads narrative.
    navigator = _as(client, people[Role.NAVIGATOR])
    encounter = navigator.get(f"/api/encounters/{calls['encounter']}").json()
    assert {e["strike_reason"] for e in encounter["narrative"]} == {None, planted["strike_reason"]}
    assert re.search("Quartermaine", json.dumps(encounter)) is None  # the summary is the call's, not here


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_real_server_logging_every_message_logs_none_of_it(
    database_url: str, people: dict[Role, Account], sessions: sessionmaker[Session], all_day_policy: Path,
    tmp_path: Path,
) -> None:
    """`heart serve` as a separate process at uvicorn's most verbose level (every ASGI message), its whole
    stderr read after the same shift and the same mistakes."""
    import os
    import subprocess
    import sys
    import time

    from tests.conftest import PASSWORD, free_port
    from tests.factories import all_day_env

    port = free_port()
    env = {**os.environ, "HEART_DATABASE_URL": database_url, "HEART_ENV": "test", "HEART_COOKIE_SECURE": "false",
           "HEART_LOG_LEVEL": "trace", **all_day_env(all_day_policy), "HEART_MAP_TILES_URL": ""}
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log:
        server = subprocess.Popen([str(Path(sys.executable).with_name("heart")), "serve", "--host", "127.0.0.1",
                                   "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 120  # a loaded machine imports slowly; this only bounds a hang
            while True:
                try:
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert server.poll() is None and time.monotonic() < deadline, log_path.read_text()[-2000:]
                time.sleep(0.2)
            with httpx.Client(base_url=url, timeout=60) as http:  # a loaded machine checks passwords slowly
                client = _HttpxAsTestClient(http)
                planted = Planted()
                calls = _every_free_text_field_filled(client, people, planted, sessions)  # type: ignore[arg-type]
                _error_answers(client, people, planted, calls)  # type: ignore[arg-type]
        finally:
            server.terminate()
            server.wait(timeout=15)
    logged = log_path.read_text()
    assert "Application startup complete" in logged and "ASGI [" in logged  # written, at the level asked for
    assert planted.found_in(logged) == []
    assert PASSWORD not in logged


class _HttpxAsTestClient:
    """Just enough of TestClient over a real connection for the shared flows (cookies, CSRF header, login)."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http
        self.cookies = http.cookies
        self.headers = http.headers

    def get(self, path: str, **kwargs: object) -> httpx.Response:
        return self.http.get(path, **kwargs)  # type: ignore[arg-type]

    def post(self, path: str, **kwargs: object) -> httpx.Response:
        return self.http.post(path, **kwargs)  # type: ignore[arg-type]
