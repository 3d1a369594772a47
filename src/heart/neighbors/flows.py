"""A neighbor takes back a consent: the consent ends, and the follow-ups that stood on it close with that outcome,
in one transaction (a follow-up never stays open without the consent it needs, and never vanishes)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from heart.auth.models import User
from heart.errors import NotFound
from heart.navigation.followups.models import FollowUp
from heart.navigation.followups.rules import CareRules
from heart.navigation.followups.service import close_for_withdrawn_consent
from heart.neighbors import service
from heart.neighbors.models import Consent


def withdraw_consent(*, session: Session, neighbor_id: int, consent_id: int, at: datetime, by: User,
                     rules: CareRules) -> tuple[Consent, list[FollowUp]]:
    """Withdraw one of the neighbor's consents and close what needed it; withdrawing twice changes nothing."""
    neighbor = service.read_neighbor(session=session, neighbor_id=neighbor_id, reader=by, purpose="consent withdrawn",
                                     at=at)
    consent = session.get(Consent, consent_id)
    if consent is None or consent.neighbor_id != neighbor.id:
        raise NotFound("consent", consent_id, field="consent_id")
    consent = service.withdraw_consent(session=session, consent_id=consent.id, at=at, actor_id=by.id)
    closed = close_for_withdrawn_consent(session=session, consent=consent, at=at, actor_id=by.id, rules=rules)
    return consent, closed
