"""The public forms' guards, with no third-party service: a signed time token bound to a cookie, a honeypot field
and a minimum fill time; and the key the rate limit counts a client by.

The token (``<form>.<issued>.<nonce>.<signature>``) is signed with the server's secret. The same nonce is set as an
HttpOnly, SameSite cookie, so a page of another site can neither read it nor post a valid form in a resident's
name (with the Origin check, this is the forms' CSRF protection). A form sent sooner than the minimum after it was
shown was filled by a program; one older than the maximum is shown again, with what was typed kept.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

FORM_COOKIE = "heart_public_form"
HONEYPOT = "website"
"""A field people never see (hidden from sight and from screen readers) and programs fill in."""


@dataclass(frozen=True, slots=True)
class FormCheck:
    """What is wrong with a form's token or honeypot; None when it may be read."""

    problem: str | None
    reason: str = ""  # for the page and the tests: "honeypot", "too_fast", "expired", "forged"


def _sign(secret: str, form: str, issued: int, nonce: str) -> str:
    message = f"public-form:{form}:{issued}:{nonce}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def issue_token(*, secret: str, form: str, now: datetime, nonce: str | None = None) -> tuple[str, str]:
    """A token for a form shown at ``now`` and the nonce to set as the cookie (the browser's own, if it has one)."""
    nonce = nonce if nonce and _plain(nonce) else secrets.token_urlsafe(18)
    issued = int(now.timestamp())
    return f"{form}.{issued}.{nonce}.{_sign(secret, form, issued, nonce)}", nonce


def _plain(text: str) -> bool:
    return 8 <= len(text) <= 64 and all(c.isalnum() or c in "-_" for c in text)


def check_form(*, secret: str, form: str, token: str | None, cookie: str | None, honeypot: str | None,
               now: datetime, min_seconds: float, max_hours: float) -> FormCheck:
    """Whether a sent form is genuine, was filled by a person, and is recent."""
    if honeypot:
        return FormCheck("We could not accept this form. Please try again.", "honeypot")
    parts = (token or "").split(".")
    if len(parts) != 4 or parts[0] != form or not parts[1].isdigit():
        return FormCheck("This form did not come from this site. Please fill it in again.", "forged")
    _, issued_text, nonce, signature = parts
    issued = int(issued_text)
    if not (cookie and hmac.compare_digest(nonce, cookie)
            and hmac.compare_digest(signature, _sign(secret, form, issued, nonce))):
        return FormCheck("This form did not come from this site. Please fill it in again.", "forged")
    age = now.timestamp() - issued
    if age < min_seconds:
        return FormCheck("That was very quick. Please check what you wrote and send the form again.", "too_fast")
    if age > timedelta(hours=max_hours).total_seconds():
        return FormCheck("This form was open a long time. Please check what you wrote and send it again.", "expired")
    return FormCheck(None)


def client_key(*, secret: str, address: str) -> str:
    """A keyed hash of the client's address: the rate limit counts by it; the address itself is never stored."""
    return hmac.new(secret.encode(), f"public-client:{address}".encode(), hashlib.sha256).hexdigest()[:32]
