"""Security headers on every response: a strict Content-Security-Policy, no framing, no sniffing, no caching.

A page's data can never become script: templates escape, the front end builds text nodes, and the browser is
told to run only scripts served by HEART itself (no inline script, no ``eval``). Pages and API answers carry
personal data, so no browser or proxy may keep them (``no-store``: after signing out, Back shows nothing);
static assets (``/static``, ``/vendor``) hold none and may be cached, as may a response that chose its own
``Cache-Control``.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from heart.config import Settings

CACHEABLE_PREFIXES = ("/static/", "/vendor/")
# Plotly adds its chart styles by creating an *empty* <style> element and inserting rules through the CSSOM.
# The hash of the empty string lets exactly that element through; any <style> with content, and every style=
# attribute in markup, is still refused.
EMPTY_STYLE_ELEMENT = "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"
HSTS = "max-age=31536000"


def content_security_policy(settings: Settings) -> str:
    """The policy for every page: HEART's own scripts, styles, images and connections only (map tiles come through
    HEART, ``/map/tiles``, so no tile server is ever named here)."""
    images = ["'self'", "data:", "blob:"]
    directives = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": f"'self' {EMPTY_STYLE_ELEMENT}",
        "img-src": " ".join(images),
        "connect-src": "'self'",
        "font-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def security_headers(settings: Settings) -> list[tuple[bytes, bytes]]:
    """The headers added to every response (HSTS only where cookies are Secure, i.e. served over https)."""
    headers = {
        "Content-Security-Policy": content_security_policy(settings),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Permissions-Policy": "geolocation=(self), camera=(), microphone=(), payment=()",
    }
    if settings.secure_cookies:
        headers["Strict-Transport-Security"] = HSTS
    return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]


class SecurityHeaders:
    """ASGI middleware: add the security headers, and ``Cache-Control: no-store`` where nothing else was chosen."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.headers = security_headers(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cacheable = str(scope.get("path", "")).startswith(CACHEABLE_PREFIXES)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers:
                    if name.decode("latin-1") not in headers:
                        headers.raw.append((name, value))
                if not cacheable and "cache-control" not in headers:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install(app: FastAPI, settings: Settings) -> None:
    """Wrap ``app``'s whole middleware stack, so that even the error page of an unexpected failure (answered by
    the outermost error middleware, outside ``add_middleware``'s reach) carries the headers."""
    build = app.build_middleware_stack

    def build_with_headers() -> ASGIApp:
        return SecurityHeaders(build(), settings)

    app.build_middleware_stack = build_with_headers  # type: ignore[method-assign]
