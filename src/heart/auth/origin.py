"""Sign-in requests must come from HEART's own pages: an Origin / Referer check and a token before sign-in.

A cross-site form posted to ``/login`` (a "login CSRF") would sign the browser into the attacker's account, so
that what a dispatcher then types lands where the attacker can read it. Browsers send ``Origin`` on every
cross-site POST; the login form also carries a token bound to a cookie that another site can neither read nor
set to a value of its choosing (the token is signed with the server's secret).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from fastapi import Request, Response

LOGIN_COOKIE = "heart_login"
FORM_FIELD = "csrf_token"


def own_origin(request: Request) -> str:
    """This site's origin as the browser sees it (scheme from a trusted proxy's X-Forwarded-Proto)."""
    host = request.headers.get("host") or request.url.netloc
    return f"{request.url.scheme}://{host}".lower()


def from_own_site(request: Request) -> bool:
    """False when ``Origin`` (or, without it, ``Referer``) names another site; true when neither is sent.

    Tools (curl, the CLI's clients) send neither; every browser sends ``Origin`` on a cross-site POST.
    """
    origin = request.headers.get("origin")
    if origin is not None:
        return origin.lower() == own_origin(request)
    referer = request.headers.get("referer")
    if referer is not None:
        parts = urlsplit(referer)
        return f"{parts.scheme}://{parts.netloc}".lower() == own_origin(request)
    return True


def _signature(secret: str, nonce: str) -> str:
    return hmac.new(secret.encode(), f"login-form:{nonce}".encode(), hashlib.sha256).hexdigest()[:32]


def _valid(secret: str, token: str | None) -> bool:
    if not token or token.count(".") != 1:
        return False
    nonce, signature = token.split(".")
    return hmac.compare_digest(signature, _signature(secret, nonce))


def login_form_token(request: Request) -> str:
    """The token for a login form: the browser's current one if it is valid (several tabs), else a new one."""
    secret = request.app.state.settings.secret_key
    token = request.cookies.get(LOGIN_COOKIE)
    if token is not None and _valid(secret, token):
        return token
    nonce = secrets.token_urlsafe(24)
    return f"{nonce}.{_signature(secret, nonce)}"


def keep_login_token(request: Request, response: Response, token: str) -> None:
    """Send the form's token as a cookie too (HttpOnly; only sent back by same-site requests)."""
    response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="lax", path="/login",
                        secure=request.app.state.settings.secure_cookies)


def login_form_is_genuine(request: Request, sent: str | None) -> bool:
    """The form's token equals the cookie's, and the server signed it."""
    cookie = request.cookies.get(LOGIN_COOKIE)
    secret = request.app.state.settings.secret_key
    return bool(sent and cookie and hmac.compare_digest(sent, cookie) and _valid(secret, cookie))
