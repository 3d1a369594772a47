"""The public site (no sign-in): programs, the FAQ with live numbers, the published figures, the open data, and
the residents' forms. The staff's queue of requests is in ``heart.public.queue``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from heart.db import transaction
from heart.deps import PUBLIC, Now, SessionDep
from heart.errors import NotFound
from heart.metrics.meanings import label
from heart.metrics.public.schemas import PublicReport
from heart.metrics.public.suppression import FEWER, SUPPRESSION_RULE
from heart.navigation.followups.rules import care_rules
from heart.programs import service as programs
from heart.programs.models import Program
from heart.public import figures as f
from heart.public import opendata, schemas, service, spam
from heart.public.hours import hours_text
from heart.public.texts import PublicTexts, markdown, public_texts
from heart.templating import render

router = APIRouter(include_in_schema=False)
GROUP_TITLES = {
    "responses": "Responses", "reach": "Reach: eligible calls, and why some got no team",
    "phone": "Calls resolved by phone", "care": "Follow-ups after a response", "referrals": "Referrals to services",
    "familiar": "Familiar neighbors", "familiar_responses": "Familiar neighbors' share of responses",
}
CHARTED = ("by_month", "by_hour", "outcomes", "phone_by_month", "phone_by_hour")
"""Tables drawn as a bar chart too (the table stays beside it)."""
FORMS = {"event": ("request-event", "public/event_form.html"), "volunteer": ("volunteer", "public/volunteer_form.html")}


def _texts(request: Request) -> PublicTexts:
    return public_texts(request.app.state.settings.public_dir)


def _today(request: Request) -> date:
    return datetime.now(ZoneInfo(request.app.state.settings.timezone)).date()


def _page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    texts = _texts(request)
    return render(request, name, {"texts": texts, "md": markdown, "fewer": FEWER, **context}, status_code=status_code)


def _shown_programs(db: Session, texts: PublicTexts) -> list[tuple[Program, Any]]:
    """The programs the city describes, in its order, as the loaded configuration has them."""
    loaded = {program.code: program for program in programs.list_programs(session=db)}
    return [(loaded[text.code], text) for text in texts.programs if text.code in loaded]


def _report(request: Request, db: Session, year: int) -> PublicReport:
    settings = request.app.state.settings
    from heart.public.providers import public_providers

    build = public_providers(request.app.state.read_sessionmaker, care_rules(settings), settings.timezone)
    return f.report_for(settings=settings, year=year, today=_today(request), providers=build)


@router.get("/public", dependencies=[PUBLIC])
def home(request: Request, db: SessionDep) -> HTMLResponse:
    """What each program does, who is on the team and when it runs (hours and crews from the configuration)."""
    shown = [(program, text, hours_text(program.hours)) for program, text in _shown_programs(db, _texts(request))]
    return _page(request, "public/home.html", {"shown": shown})


@router.get("/public/faq", dependencies=[PUBLIC])
def faq(request: Request, db: SessionDep) -> HTMLResponse:
    """The questions residents ask, with the latest published year's numbers."""
    years = f.published_years(session=db, today=_today(request))
    report = _report(request, db, years[0]) if years else None
    names = {program.code: program.name for program in programs.list_programs(session=db)}
    backup = []
    for code, entry in (report.programs.items() if report else ()):
        group = entry.groups.get("responses")
        if group is not None and not group.total_hidden:
            backup.append((names.get(code, code), group.figures["pct_needed_pd_backup_for_team_safety"],
                           group.figures["responses"]))
    return _page(request, "public/faq.html", {
        "year": years[0] if years else None, "backup": backup, "names": names,
        "missed": f.missed_reasons(report) if report else []})


@router.get("/public/figures", dependencies=[PUBLIC])
def figures_page(request: Request, db: SessionDep, program: str | None = None, period: str | None = None
                 ) -> HTMLResponse:
    """One program's published figures for one whole year: each figure with its meaning, each chart with its table."""
    years = f.published_years(session=db, today=_today(request))
    names = {p.code: p.name for p in programs.list_programs(session=db)}
    error = None
    year = years[0] if years else None
    if period:
        if period.isdigit() and int(period) in years:
            year = int(period)
        else:
            error = (f"{period!r} is not a published year; the figures cover whole years that have ended: "
                     f"{', '.join(map(str, years)) or 'none yet'}.")
    report = _report(request, db, year) if year is not None else None
    order = [text.code for text in _texts(request).programs]
    codes = sorted(report.programs, key=lambda c: (order.index(c) if c in order else len(order), c)) if report else []
    code = program if program in codes else (codes[0] if codes else None)
    if program and program not in codes and error is None:
        error = f"{program!r} has no published figures for {year}; pick one of {', '.join(codes) or 'none'}."
    return _page(request, "public/figures.html", {
        "years": years, "year": year, "codes": codes, "code": code, "names": names, "error": error,
        "entry": report.programs[code] if report and code else None, "report": report, "titles": GROUP_TITLES,
        "charted": CHARTED, "label": label, "rule": SUPPRESSION_RULE,
    }, status_code=422 if error else 200)


@router.get("/public/open-data", dependencies=[PUBLIC])
def open_data_page(request: Request, db: SessionDep) -> HTMLResponse:
    """The response-level open data per published year (CSV, Parquet, and the data dictionary)."""
    years = f.published_years(session=db, today=_today(request))
    return _page(request, "public/open_data.html", {"years": years, "files": opendata.FILES, "rule": SUPPRESSION_RULE})


@router.get("/public/open-data/{year}/{name}", dependencies=[PUBLIC])
def open_data_file(request: Request, db: SessionDep, year: int, name: str) -> Response:
    """One file of a year's open data (written once per ``HEART_PUBLIC_CACHE_MINUTES``)."""
    if name not in opendata.FILES:
        raise NotFound("file", name, known=opendata.FILES)
    if year not in f.published_years(session=db, today=_today(request)):
        raise NotFound("published year", year)
    folder = opendata.year_folder(settings=request.app.state.settings, year=year, today=_today(request))
    return FileResponse(folder / name, media_type=opendata.FILES[name], filename=f"heart-{year}-{name}",
                        headers={"Cache-Control": "public, max-age=3600"})


# --- the residents' forms ---------------------------------------------------------------------------------------

def _form(request: Request, kind: str, now: datetime, *, values: dict[str, str] | None = None,
          errors: dict[str, str] | None = None, problem: str | None = None, status_code: int = 200,
          chosen: list[str] | None = None) -> HTMLResponse:
    """The form, with a fresh time token (its nonce also set as a cookie) and what the resident typed, if any."""
    settings = request.app.state.settings
    token, nonce = spam.issue_token(secret=settings.secret_key, form=kind, now=now,
                                    nonce=request.cookies.get(spam.FORM_COOKIE))
    path, template = FORMS[kind]
    page = _page(request, template, {
        "form_token": token, "values": values or {}, "errors": errors or {}, "problem": problem, "action": path,
        "honeypot": spam.HONEYPOT, "chosen": chosen or [], "retention_days": settings.engagement_retention_days,
        "today": _today(request)}, status_code=status_code)
    page.set_cookie(spam.FORM_COOKIE, nonce, httponly=True, samesite="strict", path="/public",
                    secure=settings.secure_cookies)
    return page


@router.get("/public/request-event", dependencies=[PUBLIC])
def event_form(request: Request, now: Now) -> HTMLResponse:
    return _form(request, "event", now)


@router.get("/public/volunteer", dependencies=[PUBLIC])
def volunteer_form(request: Request, now: Now) -> HTMLResponse:
    return _form(request, "volunteer", now)


@router.post("/public/request-event", dependencies=[PUBLIC])
async def event_submit(request: Request, now: Now) -> Response:
    """A request for the department at an event: checked, then saved, then the confirmation."""
    return await _submit(request, "event", now)


@router.post("/public/volunteer", dependencies=[PUBLIC])
async def volunteer_submit(request: Request, now: Now) -> Response:
    """A sign-up to the volunteer interest list: checked, then saved, then the confirmation."""
    return await _submit(request, "volunteer", now)


async def _submit(request: Request, kind: str, now: datetime) -> Response:
    from heart.auth.origin import from_own_site

    settings = request.app.state.settings
    form = await request.form()
    fields = {key: value for key, value in form.items() if isinstance(value, str) and key != spam.HONEYPOT}
    chosen = [value for value in form.getlist("interests") if isinstance(value, str)]
    if not from_own_site(request):
        return _form(request, kind, now, values=fields, chosen=chosen, status_code=403,
                     problem="This form did not come from this site. Please fill it in again.")
    address = request.client.host if request.client else "unknown"
    key = spam.client_key(secret=settings.secret_key, address=address)
    try:
        with transaction(request.app.state.sessionmaker) as session:  # counted even when the form is refused
            service.count_form_attempt(session=session, client_key=key, now=now, limit=settings.public_form_limit)
    except service.TooManyForms as limited:
        page = _page(request, "public/limited.html", {"minutes": max(1, round(limited.retry_after / 60))},
                     status_code=429)
        page.headers["Retry-After"] = str(limited.retry_after)
        return page
    honeypot = form.get(spam.HONEYPOT)
    guard = spam.check_form(secret=settings.secret_key, form=kind, token=fields.get("form_token"),
                            cookie=request.cookies.get(spam.FORM_COOKIE),
                            honeypot=honeypot if isinstance(honeypot, str) else None, now=now,
                            min_seconds=settings.public_form_min_seconds, max_hours=settings.public_form_max_hours)
    if guard.problem:
        return _form(request, kind, now, values=fields, chosen=chosen, problem=guard.problem, status_code=400)
    if kind == "event":
        checked = schemas.check_event_request(fields, today=_today(request))
    else:
        checked = schemas.check_signup(fields, chosen, known=_texts(request).engagement.interests)
    if not checked.ok:
        return _form(request, kind, now, values=checked.values, errors=checked.errors, chosen=chosen,
                     status_code=422, problem="Please correct the marked fields; what you wrote is kept.")
    with transaction(request.app.state.sessionmaker) as session:
        if kind == "event":
            service.receive_event_request(session=session, checked=checked, now=now)
        else:
            service.receive_signup(session=session, checked=checked, now=now)
    return RedirectResponse(f"/public/{FORMS[kind][0]}/sent", status_code=303)


@router.get("/public/request-event/sent", dependencies=[PUBLIC])
def event_sent(request: Request) -> HTMLResponse:
    return _page(request, "public/sent.html", {"kind": "event"})


@router.get("/public/volunteer/sent", dependencies=[PUBLIC])
def volunteer_sent(request: Request) -> HTMLResponse:
    return _page(request, "public/sent.html", {"kind": "volunteer"})


