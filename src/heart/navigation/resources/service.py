"""Find services in the directory: by need, language, age, words, open now and distance, a page at a time.

- need: one of HEART's needs (or another name for it, see ``needs.yaml``), met through HSDS taxonomy terms;
- language: an ISO 639 code in any of its forms (``es``, ``spa``) or a language's name (``Spanish``), spoken by the
  service, at one of its locations or on one of its phones (HSDS ``language`` records); a service that declares
  no language is not assumed to speak any;
- open now: at least one of its sites is open at this moment (see ``sites`` and ``schedules``); unknown hours
  never count as open;
- near (latitude, longitude) and within (km): sorted nearest first by great-circle distance to the nearest site;
  services with no site on the map come after the others, and are left out when a radius is given.
Only active services (HSDS ``status``) are found; a service page shows any status.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

import langcodes
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from heart.errors import InvalidInput, NotFound
from heart.navigation.resources.models import (
    Attribute,
    Language,
    Organization,
    Phone,
    RequiredDocument,
    Service,
    ServiceAtLocation,
    TaxonomyTerm,
)
from heart.navigation.resources.needs import NeedsMap
from heart.navigation.resources.sites import Offer, Site, offers

MAX_PER_PAGE = 100


@dataclass(frozen=True, slots=True)
class Search:
    """What a navigator asks for; every part is optional."""

    need: str | None = None
    language: str | None = None
    open_now: bool = False
    near: tuple[float, float] | None = None
    within_km: float | None = None
    age: int | None = None
    text: str | None = None
    page: int = 1
    per_page: int = 20


@dataclass
class Hit:
    """One service found, with what a navigator decides on: needs met, languages, open now, nearest site."""

    service: Service
    organization: Organization | None
    offer: Offer
    needs: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    phones: list[Phone] = field(default_factory=list)

    @property
    def site(self) -> Site | None:
        """The site to show: the nearest (open, when only open ones were asked for), else the first."""
        return self.offer.nearest or (self.offer.sites[0] if self.offer.sites else None)


@dataclass
class Results:
    hits: list[Hit]
    total: int
    page: int
    per_page: int
    need: str | None = None

    @property
    def total_pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def search_services(*, session: Session, search: Search, needs: NeedsMap, now: datetime, zone: tzinfo) -> Results:
    """The services that match ``search``, nearest (or by name) first, one page of them."""
    if not 1 <= search.per_page <= MAX_PER_PAGE:
        raise InvalidInput(f"per_page must be 1 to {MAX_PER_PAGE}", field="per_page")
    if search.within_km is not None and search.near is None:
        raise InvalidInput("a distance needs a point to measure from (near)", field="within_km")
    need = _need(needs, search.need)
    terms = needs.terms_by_need(session)
    query = select(Service.id).where(Service.status == "active")
    if need is not None:
        query = query.where(Service.id.in_(select(Attribute.link_id).where(
            Attribute.taxonomy_term_id.in_(terms[need]))))
    if search.age is not None:
        query = query.where(or_(Service.minimum_age.is_(None), Service.minimum_age <= search.age),
                            or_(Service.maximum_age.is_(None), Service.maximum_age >= search.age))
    if search.text:
        query = _words(query, search.text)
    ids = list(session.scalars(query.order_by(func.lower(Service.name), Service.id)))
    if search.language:
        speakers = speaking(session=session, language=search.language)
        ids = [ident for ident in ids if ident in speakers]
    start = (search.page - 1) * search.per_page
    if search.near is None and not search.open_now:  # by name: only the page shown needs its sites and hours
        shown = ids[start:start + search.per_page]
        found = offers(session=session, service_ids=shown, now=now, zone=zone)
        return Results(_hits(session, [found[ident] for ident in shown], terms), len(ids), search.page,
                       search.per_page, need)
    found = offers(session=session, service_ids=ids, now=now, zone=zone, near=search.near, hours=search.open_now,
                   addresses=False)
    chosen = [found[ident] for ident in ids]
    if search.open_now:
        chosen = [offer for offer in chosen if offer.open_now()]
    if search.within_km is not None:
        chosen = [offer for offer in chosen if offer.nearest and (offer.nearest.distance_km or 0) <= search.within_km]
    if search.near is not None:  # nearest first (stable: equally near ones stay by name), no site on the map last
        chosen.sort(key=lambda offer: (offer.nearest is None, offer.nearest.distance_km if offer.nearest else 0.0))
    shown = [offer.service_id for offer in chosen[start:start + search.per_page]]
    page = offers(session=session, service_ids=shown, now=now, zone=zone, near=search.near)
    if search.open_now:
        for offer in page.values():  # show an open site
            offer.sites = [site for site in offer.sites if site.open_now()] or offer.sites
    return Results(_hits(session, [page[ident] for ident in shown], terms), len(chosen), search.page,
                   search.per_page, need)


def get_service(*, session: Session, service_id: str, needs: NeedsMap, now: datetime, zone: tzinfo,
                near: tuple[float, float] | None = None) -> Hit:
    """One service with every site, whatever its status; NotFound when the directory has no such id."""
    service = session.get(Service, service_id)
    if service is None:
        raise NotFound("service", service_id)
    found = offers(session=session, service_ids=[service_id], now=now, zone=zone, near=near)
    return _hits(session, [found[service_id]], needs.terms_by_need(session))[0]


def speaking(*, session: Session, language: str) -> set[str]:
    """The ids of services that speak ``language`` themselves, at a location or on a phone."""
    wanted, wanted_name = _tag(language), language.strip().casefold()
    rows = [row for row in session.execute(select(Language.service_id, Language.location_id, Language.phone_id,
                                                  Language.name, Language.code))
            if (row.code and _tag(row.code) == wanted) or (row.name and row.name.strip().casefold() == wanted_name)]
    services = {row.service_id for row in rows if row.service_id}
    locations = {row.location_id for row in rows if row.location_id}
    phones = {row.phone_id for row in rows if row.phone_id}
    if locations:
        services |= set(session.scalars(select(ServiceAtLocation.service_id).where(
            ServiceAtLocation.location_id.in_(locations))))
    if phones:
        for phone_service, phone_link in session.execute(select(Phone.service_id, Phone.service_at_location_id)
                                                         .where(Phone.id.in_(phones))):
            services.add(phone_service)
            if phone_link:
                services |= set(session.scalars(select(ServiceAtLocation.service_id).where(
                    ServiceAtLocation.id == phone_link)))
    return {ident for ident in services if ident}


def directory_languages(*, session: Session) -> list[tuple[str, str]]:
    """(value to search by, name to show) for each language the directory mentions, by name."""
    seen: dict[str, str] = {}
    for name, code in session.execute(select(Language.name, Language.code).distinct()):
        key = _tag(code) if code else (name or "").strip().casefold()
        if key and key not in seen:
            seen[key] = (name or code or key).strip()
    return sorted(((code, name) for code, name in seen.items()), key=lambda item: item[1].casefold())


def _need(needs: NeedsMap, name: str | None) -> str | None:
    if not name:
        return None
    key = needs.resolve(name)
    if key is None:
        raise InvalidInput(f"{name!r} is not a need HEART knows; the needs are: {', '.join(needs.needs)}",
                           field="need")
    return key


def _tag(code: str) -> str:
    try:
        return str(langcodes.standardize_tag(code.strip()))
    except (ValueError, langcodes.LanguageTagError):
        return code.strip().casefold()


def _words(query: Select[str], text: str) -> Select[str]:
    """Every word appears in the service's name, alternate name, description or organization's name."""
    for word in text.split()[:8]:
        pattern = f"%{word.casefold().replace('%', '').replace('_', '')}%"
        query = query.where(or_(func.lower(Service.name).like(pattern), func.lower(Service.alternate_name).like(
            pattern), func.lower(Service.description).like(pattern), Service.organization_id.in_(
            select(Organization.id).where(func.lower(Organization.name).like(pattern)))))
    return query


def _hits(session: Session, chosen: Iterable[Offer], terms: dict[str, set[str]]) -> list[Hit]:
    offers_by_id = {offer.service_id: offer for offer in chosen}
    ids = list(offers_by_id)
    services = {row.id: row for row in session.scalars(select(Service).where(Service.id.in_(ids)))} if ids else {}
    organizations = {row.id: row for row in session.scalars(select(Organization).where(Organization.id.in_(
        {service.organization_id for service in services.values()})))} if services else {}
    need_of_term: dict[str, list[str]] = defaultdict(list)
    for need, term_ids in terms.items():
        for term in term_ids:
            need_of_term[term].append(need)
    met: dict[str, set[str]] = defaultdict(set)
    spoken: dict[str, set[str]] = defaultdict(set)
    phones: dict[str, list[Phone]] = defaultdict(list)
    if ids:
        for link_id, term_id in session.execute(select(Attribute.link_id, Attribute.taxonomy_term_id).where(
                Attribute.link_id.in_(ids))):
            met[link_id].update(need_of_term.get(term_id, ()))
        at_location: dict[str, set[str]] = defaultdict(set)
        for ident, offer in offers_by_id.items():
            for site in offer.sites:
                at_location[site.location.id].add(ident)
        for service_id, location_id, name, code in session.execute(
                select(Language.service_id, Language.location_id, Language.name, Language.code).where(or_(
                    Language.service_id.in_(ids), Language.location_id.in_(list(at_location))))):
            owners = {service_id} if service_id in offers_by_id else at_location.get(location_id or "", set())
            for owner in owners:
                spoken[owner].add((name or code or "").strip())
        for phone in session.scalars(select(Phone).where(Phone.service_id.in_(ids)).order_by(Phone.id)):
            phones[phone.service_id or ""].append(phone)
    order = list(terms)
    return [Hit(service=services[ident], organization=organizations.get(services[ident].organization_id),
                offer=offers_by_id[ident], needs=sorted(met[ident], key=order.index),
                languages=sorted(spoken[ident], key=str.casefold), phones=phones[ident])
            for ident in ids if ident in services]


def terms_of(*, session: Session, service_id: str) -> list[TaxonomyTerm]:
    """The taxonomy terms a service carries (through HSDS attributes), by name."""
    return list(session.scalars(select(TaxonomyTerm).where(TaxonomyTerm.id.in_(
        select(Attribute.taxonomy_term_id).where(Attribute.link_id == service_id))).order_by(TaxonomyTerm.name)))


def required_documents(*, session: Session, service_id: str) -> list[str]:
    """What a person must bring (HSDS required_document), in the directory's order."""
    return [document for document in session.scalars(select(RequiredDocument.document).where(
        RequiredDocument.service_id == service_id).order_by(RequiredDocument.id)) if document]
