"""Neighbor records: create and correct them, link them to calls, record and withdraw consent, and read them.

Every read of a record goes through ``read_neighbor`` or ``log_reads``, which append to the access log (who,
when, why) in the reader's transaction: a read whose log entry cannot be written is not served. Events name the
fields that changed, never their values.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from heart.auth.models import User
from heart.auth.need_to_know import neighbors_visible_to
from heart.calls.models import Call, CallStatus
from heart.errors import Conflict, InvalidInput, NotFound
from heart.events import record_event
from heart.navigation.followups.rules import CareRules
from heart.neighbors.models import Consent, Neighbor, NeighborLink, NeighborRead
from heart.neighbors.schemas import NeighborDetails, NeighborUpdate

PERSONAL_FIELDS = ("first_name", "last_name", "aliases", "date_of_birth", "phone", "address", "language", "pronouns",
                   "contact_method", "contact_times")
MAX_PURPOSE = 64


def create_neighbor(*, session: Session, details: NeighborDetails, at: datetime, actor_id: int | None,
                    rules: CareRules, restricted_to_program_id: int | None = None) -> Neighbor:
    """A new record of a person, as an encounter, a CCD contact or a case's intake gives it (kept for one members-only
    program's staff when ``restricted_to_program_id`` names it)."""
    _check_method(details.contact_method, rules)
    neighbor = Neighbor(**details.model_dump(), created_at=at, created_by_id=actor_id,
                        restricted_to_program_id=restricted_to_program_id)
    session.add(neighbor)
    session.flush()
    record_event(session=session, kind="neighbor.created", subject_type="neighbor", subject_id=neighbor.id, at=at,
                 actor_id=actor_id, after={"fields": details.given()})
    return neighbor


def update_neighbor(*, session: Session, neighbor_id: int, changes: NeighborUpdate, at: datetime, by: User,
                    rules: CareRules) -> Neighbor:
    """Correct or complete a record; the event names the fields changed, not what they hold."""
    neighbor = _visible(session, neighbor_id, by)
    require_open_record(neighbor)
    unknown = [name for name in changes.clear if name not in PERSONAL_FIELDS]
    if unknown:
        raise InvalidInput(f"cannot clear {', '.join(unknown)}; fields are {', '.join(PERSONAL_FIELDS)}",
                           field="clear")
    _check_method(changes.contact_method, rules)
    values = {name: value for name, value in changes.model_dump(exclude={"clear"}, exclude_unset=True).items()
              if value not in (None, [])}
    values.update({name: [] if name == "aliases" else None for name in changes.clear})
    changed = sorted(name for name, value in values.items() if getattr(neighbor, name) != value)
    for name in changed:
        setattr(neighbor, name, values[name])
    if changed:
        record_event(session=session, kind="neighbor.updated", subject_type="neighbor", subject_id=neighbor.id,
                     at=at, actor_id=by.id, after={"fields": changed})
    return neighbor


def link_to_call(*, session: Session, neighbor_id: int, call_id: int, encounter_id: int | None, at: datetime,
                 actor_id: int | None) -> NeighborLink:
    """Name a neighbor on a call (and its encounter); naming them again changes nothing."""
    link = session.scalar(select(NeighborLink).where(NeighborLink.neighbor_id == neighbor_id,
                                                     NeighborLink.call_id == call_id))
    if link is not None:
        if link.encounter_id is None and encounter_id is not None:
            link.encounter_id = encounter_id
        return link
    link = NeighborLink(neighbor_id=neighbor_id, call_id=call_id, encounter_id=encounter_id, linked_at=at,
                        linked_by_id=actor_id)
    session.add(link)
    session.flush()
    record_event(session=session, kind="neighbor.linked", subject_type="neighbor", subject_id=neighbor_id,
                 call_id=call_id, at=at, actor_id=actor_id, after={"encounter_id": encounter_id})
    return link


def name_on_call(*, session: Session, neighbor_id: int, call: str, at: datetime, by: User) -> NeighborLink:
    """A navigator or supervisor names a known neighbor on a call still being answered (by its number or id), so the
    crew sees what they need to approach with care; the record kept for them is named."""
    neighbor = _visible(session, neighbor_id, by)
    if neighbor.restricted_to_program_id is not None:
        raise Conflict("this record is kept for its program's staff alone; it is not named on calls")
    found = session.scalar(select(Call).where(Call.external_id == call.strip())) or (
        session.get(Call, int(call)) if call.strip().isdigit() else None)
    if found is None:
        raise NotFound("call", call.strip()[:32] or "(none)", field="call")
    if found.status in (CallStatus.RESOLVED, CallStatus.CANCELLED):
        raise Conflict(f"call {found.external_id or found.id} is {found.status.value}; name a neighbor on a call still "
                       "being answered")
    return link_to_call(session=session, neighbor_id=neighbor.kept_id, call_id=found.id, encounter_id=None, at=at,
                        actor_id=by.id)


def give_consent(*, session: Session, neighbor_id: int, purpose: str, at: datetime, actor_id: int | None,
                 rules: CareRules, provider_name: str | None = None, provider_organization_id: str | None = None,
                 encounter_id: int | None = None) -> Consent:
    """Record consent to one purpose; a purpose that names a provider needs one. Consenting to what is already
    consented returns that consent unchanged."""
    known = rules.config.consent_purposes
    if purpose not in known:
        raise InvalidInput(f"unknown consent purpose; the purposes are {', '.join(known)}", field="purpose")
    names_provider = known[purpose].provider
    if names_provider and not (provider_name or provider_organization_id):
        raise InvalidInput(f"consent to {known[purpose].label.lower()} names the provider", field="provider_name")
    if not names_provider:
        provider_name = provider_organization_id = None
    existing = active_consent(session=session, neighbor_id=neighbor_id, purpose=purpose,
                              organization_id=provider_organization_id,
                              provider_name=None if provider_organization_id else provider_name)
    if existing is not None:
        return existing
    consent = Consent(neighbor_id=neighbor_id, purpose=purpose, provider_name=provider_name,
                      provider_organization_id=provider_organization_id, encounter_id=encounter_id, given_at=at,
                      recorded_by_id=actor_id)
    session.add(consent)
    session.flush()
    record_event(session=session, kind="consent.given", subject_type="neighbor", subject_id=neighbor_id, at=at,
                 actor_id=actor_id, after={"consent_id": consent.id, "purpose": purpose,
                                           "provider_organization_id": provider_organization_id})
    return consent


def withdraw_consent(*, session: Session, consent_id: int, at: datetime, actor_id: int | None) -> Consent:
    """The neighbor takes a consent back (a conditional write: withdrawing twice changes nothing)."""
    consent = session.get(Consent, consent_id, populate_existing=True)
    if consent is None:
        raise NotFound("consent", consent_id, field="consent_id")
    withdrawn = session.execute(update(Consent).where(Consent.id == consent_id, Consent.withdrawn_at.is_(None))
                                .values(withdrawn_at=at, withdrawn_by_id=actor_id)).rowcount  # type: ignore[attr-defined]
    session.refresh(consent)
    if withdrawn == 1:
        record_event(session=session, kind="consent.withdrawn", subject_type="neighbor",
                     subject_id=consent.neighbor_id, at=at, actor_id=actor_id,
                     after={"consent_id": consent.id, "purpose": consent.purpose})
    return consent


def active_consent(*, session: Session, neighbor_id: int, purpose: str, organization_id: str | None = None,
                   provider_name: str | None = None) -> Consent | None:
    """The neighbor's consent to ``purpose`` (for that provider) still in force, if any."""
    query = select(Consent).where(Consent.neighbor_id == neighbor_id, Consent.purpose == purpose,
                                  Consent.withdrawn_at.is_(None))
    if organization_id is not None:
        query = query.where(Consent.provider_organization_id == organization_id)
    if provider_name is not None:
        query = query.where(Consent.provider_name == provider_name)
    return session.scalars(query.order_by(Consent.id)).first()


def consents_of(*, session: Session, neighbor_id: int) -> list[Consent]:
    return list(session.scalars(select(Consent).where(Consent.neighbor_id == neighbor_id).order_by(Consent.id)))


def read_neighbor(*, session: Session, neighbor_id: int, reader: User, purpose: str, at: datetime) -> Neighbor:
    """A neighbor's record for ``reader``, logged as read for ``purpose``. A record the reader may not see (need
    to know) is said not to exist, and its read is not logged (nothing was read)."""
    neighbor = _visible(session, neighbor_id, reader)
    log_reads(session=session, neighbor_ids=[neighbor.id], reader=reader, purpose=purpose, at=at)
    return neighbor


def log_reads(*, session: Session, neighbor_ids: Iterable[int], reader: User, purpose: str, at: datetime) -> None:
    """Append one access-log row per neighbor shown to ``reader`` (one statement for a whole list)."""
    rows = [{"neighbor_id": ident, "reader_id": reader.id, "at": at, "purpose": purpose[:MAX_PURPOSE]}
            for ident in dict.fromkeys(neighbor_ids)]
    if rows:
        session.execute(insert(NeighborRead), rows)


def reads_of(*, session: Session, neighbor_id: int, limit: int = 200) -> list[NeighborRead]:
    """The access log of one record, newest first."""
    return list(session.scalars(select(NeighborRead).where(NeighborRead.neighbor_id == neighbor_id)
                                .order_by(NeighborRead.at.desc(), NeighborRead.id.desc()).limit(limit)))


def calls_of(*, session: Session, neighbor_ids: list[int]) -> list[NeighborLink]:
    """The calls the records were named on, oldest first."""
    return list(session.scalars(select(NeighborLink).where(NeighborLink.neighbor_id.in_(neighbor_ids))
                                .order_by(NeighborLink.linked_at, NeighborLink.id)))


def merged_into(*, session: Session, neighbor_id: int, reader: User) -> list[Neighbor]:
    """The records merged into this one (that ``reader`` may see), oldest first."""
    return list(session.scalars(select(Neighbor).where(Neighbor.merged_into_id == neighbor_id,
                                                       neighbors_visible_to(reader)).order_by(Neighbor.id)))


def _visible(session: Session, neighbor_id: int, viewer: User) -> Neighbor:
    neighbor = session.scalar(select(Neighbor).where(Neighbor.id == neighbor_id, neighbors_visible_to(viewer)))
    if neighbor is None:
        raise NotFound("neighbor", neighbor_id, field="neighbor_id")
    return neighbor


def _check_method(method: str | None, rules: CareRules) -> None:
    if method is not None and method not in rules.config.contact_methods:
        raise InvalidInput(f"unknown contact method; the methods are {', '.join(rules.config.contact_methods)}",
                           field="contact_method")


def require_open_record(neighbor: Neighbor) -> None:
    """Refuse to change a record merged into another: changes go to the record kept."""
    if neighbor.merged_into_id is not None:
        raise Conflict(f"neighbor {neighbor.id} was merged into neighbor {neighbor.merged_into_id}; change that "
                       "record instead")
