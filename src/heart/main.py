"""The application factory: one FastAPI app serving the JSON API and the server-rendered pages.

It registers every table (``heart.models``), each domain's routers, the live machinery with each domain's scheduled
jobs (``heart.live``), the one map from a refusal to its status (``heart.errors.http_status``: JSON for the API, a
page for a browser) and stable OpenAPI operation ids; and it refuses to start if a route declares no permission.
"""

from __future__ import annotations

import logging
import traceback
from functools import partial
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from markupsafe import escape
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

import heart.models  # noqa: F401  (the app registers every table before its first session)
from heart import live
from heart.body_limit import BodyLimit
from heart.config import Settings, get_settings
from heart.db import make_engine, make_sessionmaker
from heart.deps import PUBLIC, Forbidden, NotSignedIn, PublicMarker, RoleGuard, refuse_nul_in_request
from heart.errors import DomainError, http_status
from heart.security_headers import install as install_security_headers
from heart.tracebacks import withhold_exception_messages

log = logging.getLogger("heart")
BUSY_RETRY_SECONDS = 2
STATIC_DIR = Path(__file__).resolve().parent / "web" / "static"


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app for ``settings`` (read from the environment when not given)."""
    settings = settings or get_settings()
    withhold_exception_messages()
    app = FastAPI(title="HEART", version="0.1.0", docs_url=None, redoc_url=None,
                  description="Alternative crisis response: intake, triage, dispatch, documentation, "
                              "follow-up and metrics.",
                  dependencies=[Depends(refuse_nul_in_request)], generate_unique_id_function=operation_id)
    app.state.settings = settings
    app.state.engine = make_engine(settings.database_url, synchronous=settings.sqlite_sync)
    app.state.sessionmaker = make_sessionmaker(app.state.engine)
    if settings.database_url.startswith("sqlite"):
        app.state.read_engine = make_engine(settings.database_url, read_only=True,
                                             synchronous=settings.sqlite_sync)
        app.state.read_sessionmaker = make_sessionmaker(app.state.read_engine)
    else:
        app.state.read_engine, app.state.read_sessionmaker = app.state.engine, app.state.sessionmaker
    _mount_static(app, settings)
    _check_standards(settings)
    _add_routes(app)
    _start_live(app)
    _add_error_handlers(app)
    _require_declared_permissions(app)
    app.add_middleware(BodyLimit, settings=settings)
    install_security_headers(app, settings)
    return app


def operation_id(route: APIRoute) -> str:
    """A stable OpenAPI operation id: the route's tag and its function's name ("calls-create_call").

    FastAPI's default also spells the path and the method, so moving a route would rename it and break every
    generated client; a tag and a name change only when someone means them to (tests/test_openapi.py lists them).
    """
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


def _mount_static(app: FastAPI, settings: Settings) -> None:
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    vendor = settings.vendor_dir
    if vendor.is_dir():
        app.mount("/vendor", StaticFiles(directory=vendor), name="vendor")
    else:
        log.warning("front-end packages not found at %s; run `make install`", vendor)


def _check_standards(settings: Settings) -> None:
    """Say at start, not at the first document, when the published EIDO schema is not where the settings say."""
    from heart.calls.eido.standard import ROOT_FILE, schema_folder

    folder = schema_folder(settings.shared_data)
    if not (folder / ROOT_FILE).is_file():
        log.warning("the NENA EIDO schema is not at %s: POST /api/eido answers 503 (set HEART_SHARED_DATA)", folder)


def _add_routes(app: FastAPI) -> None:
    from heart.auth.accounts import router as accounts_pages
    from heart.auth.api import router as auth_api
    from heart.auth.pages import router as auth_pages
    from heart.calls.api import call_types as call_types_api
    from heart.calls.api import router as calls_api
    from heart.calls.eido.api import router as eido_api
    from heart.calls.pages import router as calls_pages
    from heart.dispatch.api import router as dispatch_api
    from heart.dispatch.pages import router as dispatch_pages
    from heart.dispatch.responder import router as responder_pages
    from heart.encounters.api import router as encounters_api
    from heart.encounters.pages import router as encounters_pages
    from heart.metrics.pages import router as metrics_pages
    from heart.navigation.cases.api import router as cases_api
    from heart.navigation.cases.pages import router as cases_pages
    from heart.navigation.fhir.api import router as fhir_api
    from heart.navigation.followups.api import router as follow_ups_api
    from heart.navigation.followups.pages import router as follow_ups_pages
    from heart.navigation.resources.api import router as resources_api
    from heart.navigation.resources.pages import router as resources_pages
    from heart.neighbors.api import router as neighbors_api
    from heart.neighbors.familiar.api import router as familiar_api
    from heart.neighbors.familiar.pages import router as familiar_pages
    from heart.neighbors.pages import router as neighbors_pages
    from heart.places.api import router as places_api
    from heart.places.pages import router as places_pages
    from heart.programs.api import router as programs_api
    from heart.programs.pages import router as programs_pages
    from heart.public.pages import router as public_pages
    from heart.public.queue import router as engagement_pages
    from heart.simulation.pages import router as simulation_pages
    from heart.triage.api import router as triage_api
    from heart.triage.pages import router as triage_pages

    for router in (auth_api, call_types_api, calls_api, eido_api, triage_api, dispatch_api, encounters_api,
                   programs_api, auth_pages, calls_pages, triage_pages, programs_pages, dispatch_pages, responder_pages,
                   encounters_pages):
        app.include_router(router)
    app.include_router(metrics_pages)
    app.include_router(accounts_pages)
    app.include_router(simulation_pages)
    app.include_router(resources_api)
    app.include_router(resources_pages)
    for router in (follow_ups_api, cases_api, fhir_api, neighbors_api, familiar_api, follow_ups_pages, cases_pages,
                   neighbors_pages, familiar_pages, public_pages, engagement_pages):
        app.include_router(router)
    for router in (places_api, places_pages):
        app.include_router(router)

    @app.get("/healthz", dependencies=[PUBLIC], include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}


def _start_live(app: FastAPI) -> None:
    """The realtime hub, the board's live feed, and the scheduled jobs each domain declares."""
    from heart.dispatch import scheduled as dispatch_scheduled
    from heart.dispatch.crew_states import CrewStates
    from heart.dispatch.fragments import render_board
    from heart.navigation.followups import scheduled as follow_ups_scheduled
    from heart.neighbors.familiar import scheduled as familiar_scheduled
    from heart.programs import scheduled as programs_scheduled
    from heart.public import scheduled as public_scheduled

    settings = app.state.settings
    live.install(app, jobs=(*programs_scheduled.jobs(settings), *dispatch_scheduled.jobs(settings),
                            *follow_ups_scheduled.jobs(settings), *familiar_scheduled.jobs(settings),
                            *public_scheduled.jobs(settings)))
    app.state.board_feed = live.add_feed(app, partial(render_board, app.state.read_sessionmaker))
    app.state.crew_states = CrewStates(app.state.read_sessionmaker)


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get("accept", "")


def _add_error_handlers(app: FastAPI) -> None:
    def body(message: str, field: str | None = None) -> dict[str, Any]:
        return {"detail": message, **({"field": field} if field else {})}

    @app.exception_handler(NotSignedIn)
    def not_signed_in(request: Request, _: NotSignedIn) -> Response:
        if _wants_html(request):
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        return JSONResponse(body("sign in first"), status_code=401)

    @app.exception_handler(Forbidden)
    def forbidden(request: Request, error: Forbidden) -> Response:
        if _wants_html(request):
            from heart.templating import render

            return render(request, "error.html", {"status": 403, "message": str(error)}, status_code=403)
        return JSONResponse(body(str(error)), status_code=403)

    @app.exception_handler(DomainError)
    def domain_error(request: Request, error: DomainError) -> Response:
        status = http_status(error)
        if _wants_html(request):  # a page: the same status, as a page a person reads
            from heart.templating import render

            return render(request, "error.html", {"status": status, "message": str(error)}, status_code=status)
        field = getattr(error, "field", None)
        if status == 422:  # a refusal that lists several places (an EIDO document's) gives them all
            detail = getattr(error, "details", None) or [
                {"loc": ["body", field] if field else ["body"], "msg": str(error), "type": "value_error"}]
            return JSONResponse({"detail": detail}, status_code=422)
        return JSONResponse(body(str(error), field), status_code=status)

    @app.exception_handler(PoolTimeout)
    def busy(request: Request, _: PoolTimeout) -> Response:
        # Every database connection stayed taken for the pool's whole timeout: the server is overloaded, not
        # broken. Say so and when to try again, instead of a 500 that reads like a fault.
        log.warning("busy: no database connection free on %s %s", request.method, request.url.path)
        message = "HEART is very busy right now; please try again in a few seconds."
        headers = {"Retry-After": str(BUSY_RETRY_SECONDS)}
        if _wants_html(request):
            from heart.templating import render

            answer = render(request, "error.html", {"status": 503, "message": message}, status_code=503)
            answer.headers.update(headers)
            return answer
        return JSONResponse(body(message), status_code=503, headers=headers)

    @app.exception_handler(Exception)
    def unexpected(request: Request, error: Exception) -> Response:
        # The log names the route and the error type only; details could hold personal data.
        where = traceback.extract_tb(error.__traceback__)[-1] if error.__traceback__ else None
        log.error("unexpected %s at %s on %s %s", type(error).__name__,
                  f"{where.filename}:{where.lineno}" if where else "?", request.method, request.url.path)
        message = "Something went wrong on our side. It has been logged; please try again."
        if _wants_html(request):
            from heart.templating import render

            return render(request, "error.html", {"status": 500, "message": message}, status_code=500)
        return JSONResponse(body(message), status_code=500)

    @app.exception_handler(RequestValidationError)
    def validation_error(request: Request, error: RequestValidationError) -> Response:
        # Name the field and why, but never echo the submitted value: it may be personal data.
        detail = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in error.errors()]
        if _is_page(request):
            problems = "; ".join(f"{_field_words(e['loc'])}: {e['msg']}" for e in error.errors())
            return _error_page(request, 422, f"Some of what was sent cannot be used ({problems}). "
                                              "Go back, correct it and try again: nothing was saved.")
        return JSONResponse({"detail": detail}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    def http_error(request: Request, error: StarletteHTTPException) -> Response:
        if _is_page(request):
            return _error_page(request, error.status_code, PAGE_WORDS.get(error.status_code, str(error.detail)),
                               headers=dict(error.headers or {}))
        return JSONResponse(body(str(error.detail)), status_code=error.status_code, headers=error.headers)


PAGE_WORDS = {
    404: "There is no page at this address. The link may be old or mistyped.",
    405: "This address cannot be used that way. Go back and use the page's own buttons.",
    403: "Your account does not allow this.",
}
"""What a page says for an answer the framework gives (an unknown address, a wrong method), in plain words."""


def _is_page(request: Request) -> bool:
    """A person's browser on a page route (JSON API routes keep answering JSON)."""
    return not request.url.path.startswith("/api/") and (
        "text/html" in request.headers.get("accept", "") or "hx-request" in request.headers)


def _field_words(location: Any) -> str:
    parts = [str(part) for part in location if part not in ("body", "query", "path", "form")]
    return " ".join(parts).replace("_", " ") or "the request"


def _error_page(request: Request, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """An error as a person reads it: a whole page, or one line for a button on a page (htmx)."""
    if "hx-request" in request.headers:
        answer: Response = HTMLResponse(f'<p class="error" role="alert">{escape(message)}</p>', status_code=status)
    else:
        from heart.templating import render

        answer = render(request, "error.html", {"status": status, "message": message}, status_code=status)
    answer.headers.update(headers or {})
    return answer


def _declared(dependant: Any) -> bool:
    for dependency in dependant.dependencies:
        if isinstance(dependency.call, RoleGuard | PublicMarker) or _declared(dependency):
            return True
    return False


def _all_routes(app: FastAPI) -> list[Any]:
    """Every route, including those of included routers (newer FastAPI keeps those nested)."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI flattens included routers into app.routes
        return list(app.routes)
    return [context.original_route for context in iter_route_contexts(app.routes)]


def _require_declared_permissions(app: FastAPI) -> None:
    """Everything is closed unless declared: a route that names no permission stops the app from starting."""
    undeclared = [f"{sorted(route.methods or ())} {route.path}" for route in _all_routes(app)
                  if isinstance(route, APIRoute) and not _declared(route.dependant)]
    if undeclared:
        raise RuntimeError("routes without a declared permission: " + ", ".join(undeclared))
