"""Templates and the headers every console response carries.

Templates are Jinja2 with autoescaping on for every template: a tenant's strings (display
names, addresses, rule names, messages) are data and render inert. No template holds a
script or a style attribute: the Content-Security-Policy allows scripts and styles only
from the console's own /static files, and htmx's own inline indicator style is turned off
(`htmx-config` in base.html), so no 'unsafe-inline' is needed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.responses import HTMLResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: The vendored htmx (https://htmx.org, BSD Zero-Clause; npm package htmx.org@2.0.11,
#: dist/htmx.min.js) and its Subresource Integrity hash (sha384 of the file as shipped).
HTMX_FILE = "htmx-2.0.11.min.js"
HTMX_INTEGRITY = "sha384-2OatzQy1H+Zd/IIrjr1TcuDGqLXeHhbooAyJY1KdQMKnr4LZ22k31GBLdYKHmVjg"

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),  # a link's token never leaves in a Referer
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
)


def when(moment: datetime | None) -> str:
    if moment is None:
        return "never"
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


class Templates:
    def __init__(self) -> None:
        self.env = Environment(
            loader=PackageLoader("mailwarden.console", "templates"),
            autoescape=True,  # every template, whatever its name
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["when"] = when
        self.env.globals.update(htmx_file=HTMX_FILE, htmx_integrity=HTMX_INTEGRITY)

    def render(self, template: str, **values: Any) -> str:
        return self.env.get_template(template).render(**values)

    def response(self, template: str, *, status: int = 200, **values: Any) -> HTMLResponse:
        return HTMLResponse(self.render(template, **values), status_code=status)


class SecurityHeaders:
    """ASGI middleware: the security headers on every response, static files and errors
    included; pages are never cached (they hold personal data)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_static = str(scope.get("path", "")).startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.lower() not in {h for h, _ in SECURITY_HEADERS}]
                headers += list(SECURITY_HEADERS)
                if not is_static:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
