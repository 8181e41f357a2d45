"""Keep delivery secrets out of every message, repr and error.

Channel URLs carry credentials: an SMTP password in the user-info part, a webhook's token in
its path (Teams, Slack) or query (`sig=`, `code=`, `token=`). `redact_url` shows only what a
person needs to recognise the channel; `Redactor` scrubs the same secrets from free text
(exception messages from libraries quote the URL they failed on).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit

MASK = "***"
#: Query parameters that name people or modes, never credentials: kept visible.
_PLAIN_PARAMETERS = frozenset({"from", "to", "cc", "bcc", "name", "mode", "format", "smtp",
                               "reply", "user"})
#: Fragments shorter than this are not worth scrubbing (and would mangle ordinary text).
_MIN_SECRET = 4


def redact_url(url: str) -> str:
    """The URL with password, path and credential-like query values masked."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return MASK
    host = parts.hostname or ""
    netloc = host if ":" not in host else f"[{host}]"
    if port is not None:
        netloc = f"{netloc}:{port}"
    if parts.username:
        secret = f":{MASK}" if parts.password is not None else ""
        netloc = f"{parts.username}{secret}@{netloc}"
    path = "/" + MASK if parts.path.strip("/") else parts.path
    query = "&".join(
        f"{name}={value if name.lower() in _PLAIN_PARAMETERS else MASK}"
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
    )
    return f"{parts.scheme}://{netloc}{path}" + (f"?{query}" if query else "")


def url_secrets(url: str) -> tuple[str, ...]:
    """The fragments of a URL that must never be shown, raw and percent-decoded."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return (url,)
    found = [url]
    if parts.password:
        found.append(parts.password)
    path = parts.path.strip("/")
    if path:
        found.append(path)
        found.extend(segment for segment in path.split("/") if len(segment) >= 8)
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name.lower() not in _PLAIN_PARAMETERS:
            found.append(value)
    decoded = [unquote(item) for item in found]
    return tuple(s for s in {*found, *decoded} if len(s) >= _MIN_SECRET)


@dataclass(frozen=True, slots=True)
class Redactor:
    """Replaces known secrets in text; longest first so a URL goes before its parts."""

    secrets: tuple[str, ...] = ()

    @classmethod
    def for_urls(cls, urls: Iterable[str]) -> Redactor:
        found: set[str] = set()
        for url in urls:
            found.update(url_secrets(url))
        return cls(tuple(sorted(found, key=len, reverse=True)))

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, redact_url(secret) if "://" in secret else MASK)
        return text

    def __repr__(self) -> str:
        return f"Redactor({len(self.secrets)} secrets)"
