"""API shapes of the resource directory. Pages follow HSDS's own paginated list (``Page`` in its OpenAPI)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from heart.navigation.resources.schedules import OpenState, describe
from heart.navigation.resources.service import Hit, Results
from heart.navigation.resources.sites import Site


class OpenNow(BaseModel):
    """``open`` is null when the hours are not known; ``until`` / ``next_opens`` within about a week."""

    open: bool | None
    until: datetime | None = None
    next_opens: datetime | None = None

    @classmethod
    def of(cls, state: OpenState) -> OpenNow:
        return cls(open=state.open, until=state.until, next_opens=state.next_opens)


class PhonePublic(BaseModel):
    number: str
    extension: float | None = None
    type: str | None = None
    description: str | None = None


class SitePublic(BaseModel):
    """One service at one location."""

    service_at_location_id: str
    location_id: str
    name: str | None
    address: str
    latitude: float | None
    longitude: float | None
    distance_km: float | None = Field(description="great-circle distance from the point searched from")
    open_now: OpenNow
    hours: list[str] = Field(description="the schedules in plain words")

    @classmethod
    def of(cls, site: Site) -> SitePublic:
        return cls(service_at_location_id=site.link.id, location_id=site.location.id, name=site.location.name,
                   address=site.address_line, latitude=site.location.latitude, longitude=site.location.longitude,
                   distance_km=round(site.distance_km, 2) if site.distance_km is not None else None,
                   open_now=OpenNow.of(site.open), hours=[describe(schedule) for schedule in site.schedules])


class ServiceSummary(BaseModel):
    """A service as a search lists it."""

    id: str = Field(description="the HSDS id (a referral names the service by it)")
    name: str
    organization_id: str
    organization_name: str | None
    description: str | None
    status: str
    needs: list[str] = Field(description="HEART's needs this service meets (through its HSDS taxonomy terms)")
    languages: list[str]
    open_now: OpenNow
    site: SitePublic | None = Field(description="the nearest site (an open one, when only open ones were asked for)")
    phones: list[PhonePublic]

    @classmethod
    def of(cls, hit: Hit) -> ServiceSummary:
        service = hit.service
        return cls(id=service.id, name=service.name, organization_id=service.organization_id,
                   organization_name=hit.organization.name if hit.organization else None,
                   description=service.description, status=service.status, needs=hit.needs,
                   languages=hit.languages, open_now=OpenNow.of(hit.offer.open),
                   site=SitePublic.of(hit.site) if hit.site else None,
                   phones=[PhonePublic.model_validate(phone, from_attributes=True) for phone in hit.phones])


class ServiceDetail(ServiceSummary):
    """Everything a navigator needs to refer someone: eligibility, documents, every site and its hours."""

    url: str | None
    email: str | None
    alert: str | None
    eligibility_description: str | None
    minimum_age: float | None
    maximum_age: float | None
    application_process: str | None
    fees_description: str | None
    interpretation_services: str | None
    required_documents: list[str]
    hours: list[str] = Field(description="the service's own schedules (a phone line), in plain words")
    sites: list[SitePublic]

    @classmethod
    def build(cls, hit: Hit, required_documents: list[str]) -> ServiceDetail:
        service = hit.service
        return cls(**ServiceSummary.of(hit).model_dump(), url=service.url, email=service.email, alert=service.alert,
                   eligibility_description=service.eligibility_description, minimum_age=service.minimum_age,
                   maximum_age=service.maximum_age, application_process=service.application_process,
                   fees_description=service.fees_description,
                   interpretation_services=service.interpretation_services, required_documents=required_documents,
                   hours=[describe(schedule) for schedule in hit.offer.own_schedules],
                   sites=[SitePublic.of(site) for site in hit.offer.sites])


class ServicePage(BaseModel):
    """One page of services, in the shape of HSDS's paginated lists."""

    total_items: int
    total_pages: int
    page_number: int
    size: int
    first_page: bool
    last_page: bool
    empty: bool
    contents: list[ServiceSummary]

    @classmethod
    def of(cls, results: Results) -> ServicePage:
        return cls(total_items=results.total, total_pages=results.total_pages, page_number=results.page,
                   size=len(results.hits), first_page=results.page == 1,
                   last_page=results.page >= results.total_pages, empty=not results.hits,
                   contents=[ServiceSummary.of(hit) for hit in results.hits])


class NeedPublic(BaseModel):
    need: str
    label: str
    also_called: list[str]


class LanguagePublic(BaseModel):
    code: str = Field(description="what to search by (an ISO 639 code when the directory gives one)")
    name: str
