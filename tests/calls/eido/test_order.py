"""Never: an older EIDO document overwriting what a newer one said — whatever order the documents arrive in."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from heart.calls.eido.flows import receive_eido
from heart.calls.eido.standard import EidoSchema, eido_schema
from heart.calls.models import Call
from heart.db import transaction
from tests.calls.eido.documents import PIDF_LO, ROUTING_PIDF_LO, call_transfer, eido, incident_update
from tests.calls.eido.published import FOLDER, assert_published_valid
from tests.conftest import shared_data

NATURES = ("MENTAL HEALTH CASE", "CHECK WELFARE", "SUICIDAL SUBJECT")
NOW = datetime(2025, 10, 2, tzinfo=UTC)


@dataclass(frozen=True)
class Spec:
    """One document of the incident: its minute, what it is, and what it says."""

    minute: int
    kind: str  # "transfer" (a place), "incident" (type and priority) or "complete" (all of them)
    priority: str
    nature: str
    house: int

    @property
    def address(self) -> str | None:
        if self.kind == "incident":
            return None
        street = "W Main Street" if self.kind == "transfer" else "City Hall Plaza"
        return f"{self.house} {street}, Durham, NC"

    def document(self, incident_id: str) -> dict[str, Any]:
        stamp = f"2025-10-01T15:{self.minute:02d}:00Z"
        incident = {"incidentPriorityInternalText": self.priority, "incidentTypeInternalText": self.nature}
        if self.kind == "transfer":
            document = call_transfer(stamp, incident_id=incident_id)
            document["locationComponent"][0]["locationByValue"] = ROUTING_PIDF_LO.replace(
                "<HNO>410</HNO>", f"<HNO>{self.house}</HNO>")
        elif self.kind == "incident":
            document = incident_update(stamp, incident_id=incident_id, **incident)
        else:
            document = eido(stamp, incident_id=incident_id, **incident)
            document["locationComponent"][0]["locationByValue"] = PIDF_LO.replace(
                "<ca:HNO>101</ca:HNO>", f"<ca:HNO>{self.house}</ca:HNO>")
        return document


def specs() -> st.SearchStrategy[list[Spec]]:
    minutes = st.lists(st.integers(0, 59), min_size=1, max_size=5, unique=True)
    return minutes.flatmap(lambda chosen: st.tuples(*[
        st.builds(Spec, st.just(minute), st.sampled_from(("transfer", "incident", "complete")),
                  st.sampled_from(("1", "2", "3", "4")), st.sampled_from(NATURES), st.integers(100, 999))
        for minute in chosen]).map(list))


def newest(documents: list[Spec], kinds: tuple[str, ...]) -> Spec | None:
    giving = [spec for spec in documents if spec.kind in kinds]
    return max(giving, key=lambda spec: spec.minute) if giving else None


@pytest.fixture(scope="module")
def schema() -> EidoSchema:
    if not (FOLDER / "openapi.yaml").is_file():
        pytest.skip(f"the published NENA EIDO schema is not at {FOLDER}")
    return eido_schema(shared_data())


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(documents=specs(), order=st.randoms(use_true_random=False))
def test_each_field_holds_what_the_newest_document_giving_it_said(
    sessions: sessionmaker[Session], schema: EidoSchema, documents: list[Spec], order: Any
) -> None:
    incident_id = f"urn:emergency:uid:incidentid:{uuid.uuid4().hex[:12]}:psap.durhamnc.gov"
    arriving = list(documents)
    order.shuffle(arriving)
    for spec in arriving:
        document = spec.document(incident_id)
        assert_published_valid(document)
        with transaction(sessions) as session:
            receive_eido(session=session, document=document, schema=schema, now=NOW, actor_id=None)
    with sessions() as session:
        (call,) = session.scalars(select(Call).where(Call.external_id == incident_id[29:])).all()
        typed = newest(documents, ("incident", "complete"))
        placed = newest(documents, ("transfer", "complete"))
        assert call.priority == (typed.priority if typed else None)
        assert call.nature_code == (typed.nature if typed else None)
        assert call.address == (placed.address if placed else None)
        assert session.scalar(select(func.count()).select_from(Call).where(Call.external_id == call.external_id)) == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_late_call_transfer_still_brings_its_place_and_nothing_else(
    sessions: sessionmaker[Session], schema: EidoSchema
) -> None:
    incident_id = "urn:emergency:uid:incidentid:late1:psap.durhamnc.gov"
    with transaction(sessions) as session:
        first = receive_eido(session=session, document=incident_update("2025-10-01T14:06:00Z",
                                                                        incident_id=incident_id),
                             schema=schema, now=NOW, actor_id=None)
        assert first.created and first.call.address is None
    with transaction(sessions) as session:
        late = receive_eido(session=session, document=call_transfer("2025-10-01T14:02:10Z", incident_id=incident_id),
                            schema=schema, now=NOW, actor_id=None)
        assert (late.created, late.stale, late.changed) == (False, False, ("address",))  # no point in it
        assert (late.call.address, late.call.priority) == ("410 W Main Street, Durham, NC", "3")
    with transaction(sessions) as session:
        again = receive_eido(session=session, document=call_transfer("2025-10-01T14:02:10Z", incident_id=incident_id),
                             schema=schema, now=NOW, actor_id=None)
        assert (again.stale, again.changed) == (True, ())
