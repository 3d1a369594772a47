"""A referral out as FHIR, and a partner's Task status update in, through the same guards as a navigator's click.

Exporting reads the neighbor's record (logged like any read, for ``reader``) and sends only what their consent to
share with that provider names; a withdrawn consent sends nothing. Importing moves the referral with
``followups.service.move_referral`` (the closed loop's guard, need to know, events), so a partner can never do what a
navigator could not: a repeated update changes nothing, an update older than one already applied changes nothing,
a loop that has closed stays closed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from heart.auth.models import User
from heart.calls.service import MAX_CLOCK_SKEW
from heart.errors import Conflict, NotFound
from heart.navigation.fhir.documents import FhirInvalid, ReferralFacts, Shared, read_task_update, referral_bundle
from heart.navigation.followups.models import Referral, ReferralStatus
from heart.navigation.followups.rules import CareRules
from heart.navigation.followups.service import get_follow_up, move_referral, rules_of
from heart.navigation.resources.models import Organization
from heart.neighbors.models import Consent, Neighbor
from heart.neighbors.service import read_neighbor
from heart.programs.models import Program

Result = Literal["moved", "repeated", "stale", "not_yet"]
STEPS = ("accepted", "completed", "declined", "no_response")


def export_referral(*, session: Session, referral_id: int, reader: User, at: datetime,
                    rules: CareRules) -> dict[str, Any]:
    """The referral as a FHIR R4 Bundle (ServiceRequest, Task, Patient, Organization), for ``reader``."""
    referral = _referral(session, referral_id, reader)
    follow_up = get_follow_up(session=session, follow_up_id=referral.follow_up_id, reader=reader)
    consent = session.get(Consent, referral.consent_id)
    if consent is None or not consent.active:
        raise Conflict(f"the neighbor has withdrawn their consent to share their details with "
                       f"{referral.organization_name}; nothing is sent")
    program_rules = rules_of(session=session, follow_up=follow_up, rules=rules)
    purpose = program_rules.config.consent_purposes.get(consent.purpose)
    shares = set(purpose.shares) if purpose else set()
    kept = session.get_one(Neighbor, consent.neighbor_id).kept_id  # the person's record, merges followed
    neighbor = read_neighbor(session=session, neighbor_id=kept, reader=reader,
                             purpose="referral exported (FHIR)", at=at)
    shared = Shared(
        id=neighbor.id,
        given=neighbor.first_name if "name" in shares else None,
        family=neighbor.last_name if "name" in shares else None,
        birth_date=neighbor.date_of_birth if "date_of_birth" in shares else None,
        phone=neighbor.phone if "phone" in shares else None,
        language=neighbor.language if "language" in shares else None,
        address=neighbor.address if "address" in shares else None,
        pronouns=neighbor.pronouns if "pronouns" in shares else None,
        contact_times=neighbor.contact_times if "contact_times" in shares else None,
    )
    organization = session.get(Organization, referral.organization_id)
    program = session.scalar(select(Program.name).where(Program.id == follow_up.program_id))
    facts = ReferralFacts(
        id=referral.id, status=referral.status, need=program_rules.need_label(referral.need),
        service_id=referral.service_id, service_name=referral.service_name,
        organization_id=referral.organization_id, organization_name=referral.organization_name,
        organization_email=organization.email if organization else None,
        organization_website=organization.website if organization else None,
        made_at=referral.made_at, last_step_at=_last_step(referral), program_name=program or "HEART",
    )
    return referral_bundle(facts, shared, at=at)


@dataclass
class ImportResult:
    referral: Referral
    result: Result
    notices: list[str] = field(default_factory=list)


def import_task_update(*, session: Session, document: object, by: User, now: datetime) -> ImportResult:
    """Apply a partner's Task status update to its referral (accepted / completed / rejected → accepted / completed /
    declined); "not yet" statuses, repeats and stale updates change nothing."""
    update = read_task_update(document)
    try:
        referral = _referral(session, update.referral_id, by)
    except NotFound:
        raise FhirInvalid([("Task.focus", "names no referral HEART made (that you may see)")]) from None
    if update.owner_organization_id is not None and update.owner_organization_id != referral.organization_id:
        raise FhirInvalid([("Task.owner", "is not the organization the referral was sent to")])
    at = update.at or now
    if at > now + MAX_CLOCK_SKEW:
        raise FhirInvalid([("Task.lastModified", "is in the future")])
    if at < referral.made_at:
        raise FhirInvalid([("Task.lastModified", "is before the referral was made")])
    if referral.partner_updated_at is not None and at < referral.partner_updated_at:
        return ImportResult(referral, "stale", [f"an update of {referral.partner_updated_at.isoformat()} was already "
                                                "applied; this older one changes nothing"])
    if update.step is None:
        referral.partner_updated_at = at
        return ImportResult(referral, "not_yet", [f"Task.status {update.task_status} is not a step of the referral's "
                                                  "loop; nothing changed"])
    if referral.status == update.step:
        referral.partner_updated_at = at
        return ImportResult(referral, "repeated")
    steps = [update.step]
    if update.step == ReferralStatus.COMPLETED and referral.status == ReferralStatus.MADE:
        steps = [ReferralStatus.ACCEPTED, ReferralStatus.COMPLETED]  # done implies it was taken on
    for step in steps:
        referral = move_referral(session=session, referral_id=referral.id, status=step, at=at, now=now, by=by)
    referral.partner_updated_at = at
    notices = ["completed without an accepted update first: recorded as accepted and completed at the same time"] \
        if len(steps) == 2 else []
    return ImportResult(referral, "moved", notices)


def _referral(session: Session, referral_id: int, reader: User) -> Referral:
    referral = session.get(Referral, referral_id, populate_existing=True)
    if referral is None:
        raise NotFound("referral", referral_id, field="referral_id")
    try:
        get_follow_up(session=session, follow_up_id=referral.follow_up_id, reader=reader)
    except NotFound:
        raise NotFound("referral", referral_id, field="referral_id") from None
    return referral


def _last_step(referral: Referral) -> datetime:
    times = [getattr(referral, f"{step}_at") for step in STEPS]
    return max([referral.made_at, *(t for t in times if t is not None)])
