"""The console's settings, fixed when it starts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum


class AuthMode(StrEnum):
    LOCAL = "local"  # a random token printed at start (Jupyter's pattern); binds loopback
    ENTRA = "entra"  # OpenID Connect with Entra ID, app roles map to console roles


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsoleConfig:
    db_url: str | None  # None: MAILWARDEN_DB, else the per-user default
    host: str = "127.0.0.1"
    port: int = 8765
    auth: AuthMode = AuthMode.LOCAL
    # The URL people reach the console at (links in emails); derived from host and port
    # when not set.
    public_url: str | None = None
    owner_name: str = "local admin"  # local mode: who started the console
    session_lifetime: timedelta = timedelta(hours=12)

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        return f"http://{self.host}:{self.port}"

    @property
    def secure_cookies(self) -> bool:
        """Cookies are marked Secure when people reach the console over HTTPS."""
        return self.base_url.startswith("https://")
