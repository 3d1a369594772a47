"""JSON routes of the resource directory: search, a service, its HSDS document, the needs and languages."""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request

from heart.deps import Now, SessionDep, allow
from heart.errors import InvalidInput, NotFound
from heart.navigation.resources import service
from heart.navigation.resources.needs import NeedsMap, city_needs
from heart.navigation.resources.schemas import LanguagePublic, NeedPublic, ServiceDetail, ServicePage

router = APIRouter(prefix="/api/resources", tags=["resources"])
READ = [allow("resources.read")]

Latitude = Annotated[float | None, Query(ge=-90, le=90, description="latitude of the point to measure from")]
Longitude = Annotated[float | None, Query(ge=-180, le=180, description="longitude of the point to measure from")]


def needs_of(request: Request) -> NeedsMap:
    return city_needs(request.app.state.settings.resources_dir)


def zone_of(request: Request) -> ZoneInfo:
    return ZoneInfo(request.app.state.settings.timezone)


def point(lat: float | None, lon: float | None) -> tuple[float, float] | None:
    """Both coordinates or neither."""
    if (lat is None) != (lon is None):
        raise InvalidInput("give both lat and lon, or neither", field="lon" if lon is None else "lat")
    return (lat, lon) if lat is not None and lon is not None else None


@router.get("/services", dependencies=READ)
def search_services(
    request: Request,
    db: SessionDep,
    now: Now,
    need: Annotated[str | None, Query(max_length=64, description="one of HEART's needs (see /api/resources/needs)")]
    = None,
    language: Annotated[str | None, Query(max_length=64, description="an ISO 639 code or a language's name")]
    = None,
    open_now: Annotated[bool, Query(description="only services open at this moment")] = False,
    lat: Latitude = None,
    lon: Longitude = None,
    within_km: Annotated[float | None, Query(gt=0, le=1000, description="only this far from lat/lon")] = None,
    age: Annotated[int | None, Query(ge=0, le=130, description="the person's age, for age limits")] = None,
    q: Annotated[str | None, Query(max_length=200, description="words in the name or description")] = None,
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=service.MAX_PER_PAGE)] = 20,
) -> ServicePage:
    """Active services by need, language, age, words, open now and distance (nearest first when lat/lon given)."""
    search = service.Search(need=need, language=language, open_now=open_now, near=point(lat, lon),
                            within_km=within_km, age=age, text=q, page=page, per_page=per_page)
    results = service.search_services(session=db, search=search, needs=needs_of(request), now=now,
                                      zone=zone_of(request))
    return ServicePage.of(results)


@router.get("/services/{service_id}", dependencies=READ)
def get_service(request: Request, service_id: str, db: SessionDep, now: Now, lat: Latitude = None,
                lon: Longitude = None) -> ServiceDetail:
    """One service (any status) with its eligibility, documents, every site and its hours."""
    hit = service.get_service(session=db, service_id=service_id, needs=needs_of(request), now=now,
                              zone=zone_of(request), near=point(lat, lon))
    return ServiceDetail.build(hit, service.required_documents(session=db, service_id=service_id))


@router.get("/services/{service_id}/hsds", dependencies=READ)
def get_service_document(service_id: str, db: SessionDep) -> dict[str, Any]:
    """The service as a compiled Open Referral HSDS 3.0 document (schema/compiled/service.json)."""
    from heart.navigation.resources.exporter import compiled_service  # (jsonschema only when asked)

    document = compiled_service(session=db, service_id=service_id)
    if document is None:
        raise NotFound("service", service_id)
    return document


@router.get("/needs", dependencies=READ)
def list_needs(request: Request) -> list[NeedPublic]:
    """The needs a search can ask for (the city's vocabulary)."""
    return [NeedPublic(need=key, label=need.label, also_called=need.also_called)
            for key, need in needs_of(request).needs.items()]


@router.get("/languages", dependencies=READ)
def list_languages(db: SessionDep) -> list[LanguagePublic]:
    """The languages the directory's services, sites and phones are offered in."""
    return [LanguagePublic(code=code, name=name) for code, name in service.directory_languages(session=db)]
