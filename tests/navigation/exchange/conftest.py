"""A referral made to a shelter of the demo directory, with the neighbor's consent to share: what the FHIR exchange
sends and receives."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from heart.db import transaction, utcnow
from heart.navigation.followups import service
from heart.neighbors.schemas import NeighborUpdate
from heart.neighbors.service import update_neighbor
from tests.navigation.followups.care import Care, a_service, care_world


@pytest.fixture
def care(sessions: sessionmaker[Session]) -> Care:
    return care_world(sessions, now=utcnow() - timedelta(hours=3))


@pytest.fixture
def referral(care: Care) -> int:
    """A neighbor reached, with a date of birth and an address on their record, referred to a shelter with their
    consent to share."""
    follow_up = care.clear_with()
    assert follow_up is not None
    shelter = a_service(care.sessions)
    at = care.now + timedelta(minutes=30)
    with transaction(care.sessions) as session:
        update_neighbor(session=session, neighbor_id=follow_up.neighbor_id, changes=NeighborUpdate(
            date_of_birth="1984-02-29", address="Room 12, 311 Liberty St"), at=at, by=care.navigator,
            rules=care.rules)
        service.record_attempt(session=session, follow_up_id=follow_up.id, method="phone", result="reached", at=at,
                               now=at, by=care.navigator, client_token="reach-1234", rules=care.rules)
        made = service.make_referral(session=session, follow_up_id=follow_up.id, need="housing",
                                     service_id=shelter.id, at=at, now=at, by=care.navigator,
                                     client_token="refer-1234", rules=care.rules, consent_to_share=True)
        return made.id
