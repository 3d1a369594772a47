"""Route × role matrix, generated from the app's route table: every route, every role and nobody signed in,
answered as the permission table says. A route that is not in the reviewed table (tests/auth/route_rules.py)
fails the suite.

Each request goes straight to the app over ASGI and stops at the response's first bytes, so that the live
event streams are checked like every other route. Path ids are ones that do not exist: a role that is let
through gets 404 or 422 from the route itself, a role that is not gets the guard's 403, nobody gets 401 (API)
or the sign-in page (pages).
"""

from __future__ import annotations

import enum
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Mount

from heart.auth.models import Role
from heart.auth.permissions import PERMISSIONS
from heart.deps import PublicMarker, RoleGuard
from tests.auth.route_rules import FRAMEWORK, PUBLIC, ROUTE_RULES
from tests.conftest import Account, login

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
MISSING_ID = "999999"
GUARD_REFUSAL = b"may not use"  # the words of the role guard's 403 (heart.deps.RoleGuard)


@dataclass(frozen=True)
class Entry:
    """One line of the route table: how to call it and what its code declares."""

    key: str  # "METHOD /path" as in ROUTE_RULES
    method: str
    path: str  # a concrete path to request
    declared: str  # a permission family, PUBLIC, or FRAMEWORK


def _family(dependant: Any) -> str | None:
    for dependency in dependant.dependencies:
        if isinstance(dependency.call, RoleGuard):
            return dependency.call.family
        if isinstance(dependency.call, PublicMarker):
            return PUBLIC
        found = _family(dependency)
        if found:
            return found
    return None


def _value(annotation: Any) -> str:
    """A value of a path parameter's type that names nothing that exists."""
    if typing.get_origin(annotation) is typing.Literal:
        return str(typing.get_args(annotation)[0])
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return str(next(iter(annotation)).value)
    return MISSING_ID if annotation is int else "NOPE"


def _contexts(app: FastAPI) -> Iterator[tuple[str | None, set[str] | None, Any]]:
    """(effective path, methods, route) for every route, including those of included routers."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI flattens included routers into app.routes
        for route in app.routes:
            yield getattr(route, "path", None), getattr(route, "methods", None), route
        return
    for context in iter_route_contexts(app.routes):
        yield context.path, context.methods, context.original_route


def route_table(app: FastAPI) -> list[Entry]:
    """Every route of ``app`` with a request that reaches it."""
    entries = []
    for path, methods, route in _contexts(app):
        assert path is not None
        if isinstance(route, Mount):
            files = sorted(p for p in Path(route.app.directory).rglob("*") if p.is_file())  # type: ignore[attr-defined]
            probe = f"{path}/{files[0].relative_to(route.app.directory)}"  # type: ignore[attr-defined]
            entries.append(Entry(f"MOUNT {path}", "GET", probe, FRAMEWORK))
            continue
        concrete = path
        declared = FRAMEWORK
        if isinstance(route, APIRoute):
            for param in route.dependant.path_params:
                concrete = concrete.replace(f"{{{param.name}}}", _value(param.field_info.annotation))
            declared = _family(route.dependant) or "(none)"
        for method in sorted((methods or set()) - {"HEAD"}):
            entries.append(Entry(f"{method} {path}", method, concrete, declared))
    return entries


@dataclass
class Answer:
    status: int
    location: str
    body: bytes


def call(client: TestClient, entry: Entry, cookie: str | None, csrf: str | None) -> Answer:
    """One request straight to the app, stopped once the answer starts (event streams never end by themselves)."""
    api = entry.path.startswith("/api/")
    headers = [(b"host", b"testserver"), (b"accept", b"application/json" if api else b"text/html")]
    body = b"{}" if api else b""
    if entry.method != "GET":
        headers.append((b"content-type", b"application/json" if api else b"application/x-www-form-urlencoded"))
        headers.append((b"content-length", str(len(body)).encode()))
    if cookie:
        headers.append((b"cookie", f"heart_session={cookie}".encode()))
    if csrf:
        headers.append((b"x-csrf-token", csrf.encode()))
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": entry.method,
             "scheme": "http", "path": entry.path, "raw_path": entry.path.encode(), "query_string": b"",
             "root_path": "", "headers": headers, "client": ("testclient", 50000), "server": ("testserver", 80),
             "state": {}}
    return client.portal.call(_drive, client.app, scope, body)  # type: ignore[union-attr]


async def _drive(app: Callable[..., Any], scope: dict[str, Any], body: bytes) -> Answer:
    answer = Answer(0, "", b"")
    done = anyio.Event()
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer.status = message["status"]
            answer.location = dict(message.get("headers", [])).get(b"location", b"").decode()
        elif message["type"] == "http.response.body":
            answer.body += message.get("body", b"")
            if not message.get("more_body") or answer.body:
                done.set()

    async with anyio.create_task_group() as group:
        async def run() -> None:
            await app(scope, receive, send)
            done.set()

        group.start_soon(run)
        with anyio.fail_after(30):
            await done.wait()
        group.cancel_scope.cancel()
    return answer


def expected(entry: Entry, role: Role | None) -> str:
    """What the permission table says ``role`` (None: nobody signed in) must get from ``entry``."""
    if entry.declared in (PUBLIC, FRAMEWORK):
        return "served"
    if role is None:
        return "401" if entry.path.startswith("/api/") else "sign-in page"
    return "let through" if role in PERMISSIONS[entry.declared] else "403"


def observed(entry: Entry, answer: Answer) -> str:
    if answer.status >= 500:
        return f"server error {answer.status}"
    if answer.status == 401:
        return "401"
    if answer.status == 303 and answer.location.startswith("/login?next="):  # (signing out lands on /login)
        return "sign-in page"
    if answer.status == 403 and GUARD_REFUSAL in answer.body:
        return "403"
    if entry.declared == FRAMEWORK:
        return "served" if answer.status == 200 else f"status {answer.status}"
    return "served" if entry.declared == PUBLIC else "let through"


def test_every_route_is_in_the_reviewed_table_with_the_family_its_code_declares(client: TestClient) -> None:
    table = {entry.key: entry.declared for entry in route_table(client.app)}  # type: ignore[arg-type]
    unlisted = [f'    "{key}": "{family}",' for key, family in table.items() if key not in ROUTE_RULES]
    assert not unlisted, "routes missing from tests/auth/route_rules.py (add them on purpose):\n" + "\n".join(unlisted)
    assert not set(ROUTE_RULES) - set(table), f"listed but gone: {sorted(set(ROUTE_RULES) - set(table))}"
    differ = {key: (ROUTE_RULES[key], declared) for key, declared in table.items() if ROUTE_RULES[key] != declared}
    assert not differ, f"listed family ≠ declared family: {differ}"
    unused = set(PERMISSIONS) - set(table.values())
    assert not unused, f"permission families no route uses: {sorted(unused)}"


def test_every_route_answers_every_role_and_nobody_as_the_permission_table_says(
    client: TestClient, make_user: Callable[..., Account], record_property: Callable[[str, object], None],
) -> None:
    entries = route_table(client.app)  # type: ignore[arg-type]
    accounts = {role: make_user(role) for role in Role}

    def session_of(role: Role) -> tuple[str, str]:
        client.cookies.clear()
        signed = login(client, accounts[role].username)
        token = signed.headers.pop("X-CSRF-Token")
        return str(client.cookies.get("heart_session")), token

    sessions = {role: session_of(role) for role in Role}
    wrong: list[str] = []
    checks = 0
    for entry in sorted(entries, key=lambda e: e.path.endswith("/logout")):  # sign-outs last
        for role in [None, *Role]:
            cookie, csrf = (None, None) if role is None else sessions[role]
            if role is not None and entry.path.endswith("/logout"):
                cookie, csrf = session_of(role)  # a fresh session each: signing out ends it
            answer = call(client, entry, cookie, csrf)
            want, got = expected(entry, role), observed(entry, answer)
            checks += 1
            if want != got:
                wrong.append(f"{entry.key} as {role.value if role else 'nobody'}: expected {want}, got {got} "
                             f"({answer.status})")
    record_property("route_role_checks", f"{len(entries)} routes × {len(Role) + 1} roles = {checks}")
    print(f"route × role matrix: {len(entries)} routes × {len(Role) + 1} (roles and nobody) = {checks} checks")
    assert not wrong, "\n".join(wrong)
    assert checks == len(ROUTE_RULES) * (len(Role) + 1)
