"""The navigator's resource directory: a search form with its results, and a service's page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, tzinfo
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select

from heart.deps import Now, SessionDep, allow
from heart.errors import InvalidInput
from heart.navigation.resources import service
from heart.navigation.resources.api import needs_of, zone_of
from heart.navigation.resources.models import DirectoryImport, Service
from heart.navigation.resources.schedules import OpenState, describe
from heart.templating import render

router = APIRouter(include_in_schema=False)
READ = [allow("resources.read")]
DISTANCES = (1, 2, 5, 10, 25)
FORM_FIELDS = ("need", "language", "open_now", "lat", "lon", "within_km", "age", "q")


@router.get("/resources", dependencies=READ)
def directory_page(request: Request, db: SessionDep, now: Now) -> HTMLResponse:
    """Search by need, language, age, words, open now and distance; a page of results below the form."""
    form = {name: request.query_params.get(name, "").strip()[:200] for name in FORM_FIELDS}
    needs = needs_of(request)
    error, results = None, None
    try:
        search = _search(form, request.query_params.get("page", "1"))
        results = service.search_services(session=db, search=search, needs=needs, now=now, zone=zone_of(request))
    except InvalidInput as problem:
        error = str(problem)

    def page_url(number: int) -> str:
        return "/resources?" + urlencode({**{k: v for k, v in form.items() if v}, "page": number})

    latest = db.scalar(select(DirectoryImport).order_by(DirectoryImport.at.desc()).limit(1))
    return render(request, "resources/search.html", {
        "form": form, "needs": needs.needs, "languages": service.directory_languages(session=db),
        "distances": DISTANCES, "results": results, "error": error, "page_url": page_url, "now": now,
        "open_words": _open_words(now, zone_of(request)), "point_query": _point_query(form),
        "services_count": db.scalar(select(func.count()).select_from(Service)), "latest_import": latest,
    })


@router.get("/resources/services/{service_id}", dependencies=READ)
def service_page(service_id: str, request: Request, db: SessionDep, now: Now) -> HTMLResponse:
    """A service: what it offers, who it is for, what to bring, where and when, how to reach it."""
    form = {name: request.query_params.get(name, "").strip()[:32] for name in ("lat", "lon")}
    try:
        near = _point(form)
    except InvalidInput:
        near = None
    needs = needs_of(request)
    hit = service.get_service(session=db, service_id=service_id, needs=needs, now=now, zone=zone_of(request),
                              near=near)
    return render(request, "resources/service.html", {
        "hit": hit, "service": hit.service, "needs": needs.needs, "open_words": _open_words(now, zone_of(request)),
        "describe": describe, "web_link": web_link, "terms": service.terms_of(session=db, service_id=service_id),
        "documents": service.required_documents(session=db, service_id=service_id),
    })


def web_link(url: str | None) -> str | None:
    """``url`` when it is a web address a browser may follow; any other scheme (javascript:, data:) is shown as
    text only: directory data comes from outside."""
    return url if url and url.lower().startswith(("https://", "http://")) else None


def _search(form: dict[str, str], page: str) -> service.Search:
    return service.Search(
        need=form["need"] or None, language=form["language"] or None, open_now=form["open_now"] == "yes",
        near=_point(form), within_km=_number(form["within_km"], "within_km", 0.1, 1000),
        age=int(value) if (value := _number(form["age"], "age", 0, 130)) is not None else None,
        text=form["q"] or None, page=int(_number(page, "page", 1, 100_000) or 1))


def _point(form: dict[str, str]) -> tuple[float, float] | None:
    lat, lon = _number(form["lat"], "lat", -90, 90), _number(form["lon"], "lon", -180, 180)
    if (lat is None) != (lon is None):
        raise InvalidInput("give both a latitude and a longitude, or neither", field="lat")
    return (lat, lon) if lat is not None and lon is not None else None


def _number(text: str, name: str, low: float, high: float) -> float | None:
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise InvalidInput(f"{name} must be a number", field=name) from None
    if not low <= value <= high:
        raise InvalidInput(f"{name} must be between {low:g} and {high:g}", field=name)
    return value


def _point_query(form: dict[str, str]) -> str:
    return "?" + urlencode({"lat": form["lat"], "lon": form["lon"]}) if form["lat"] and form["lon"] else ""


def _open_words(now: datetime, zone: tzinfo) -> Callable[[OpenState], tuple[str, str]]:
    """(CSS class, words) for an opening state, in local time: "Open until 17:00", "Closed · opens Tue 09:00"."""
    def words(state: OpenState) -> tuple[str, str]:
        if state.open is None:
            return "muted", "Hours unknown"
        if state.open:
            if state.until is None or state.until - now > timedelta(days=1):
                return "ok", "Open now"
            return "ok", f"Open until {state.until.astimezone(zone):%H:%M}"
        if state.next_opens is None:
            return "warn", "Closed"
        return "warn", f"Closed · opens {state.next_opens.astimezone(zone):%a %H:%M}"

    return words
