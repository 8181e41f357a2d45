"""The console's settings, fixed when it starts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from pathlib import Path

from mailwarden.settings import Settings


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
    # The overview flags a tenant STALE past these ages (settings
    # console_stale_posture_hours and console_stale_logs_hours: `freshness_limits`).
    stale_posture: timedelta = timedelta(hours=26)
    stale_logs: timedelta = timedelta(hours=2)
    # How the console reaches the tenant it plans and applies remediation for: a settings
    # TOML as the CLI's --config (tenant, client_id, endpoints; the credential from the
    # environment, as for every command). None: remediation shows requests only.
    settings_file: Path | None = None
    # Access review mail: the routing file whose email channels carry custodians' links
    # (None: reviews can be started, but nobody is sent mail), and the review mail outbox
    # (None: `console.review_mail.default_state_path()`).
    routing: Path | None = None
    review_mail_state: Path | None = None

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def secure_cookies(self) -> bool:
        """Cookies are marked Secure when people reach the console over HTTPS."""
        return self.base_url.startswith("https://")


def freshness_limits(settings: Settings) -> dict[str, timedelta]:
    """The overview's staleness limits from the settings, as ConsoleConfig's fields:
    `ConsoleConfig(db_url=..., **freshness_limits(settings))`."""
    return {"stale_posture": timedelta(hours=settings.console_stale_posture_hours),
            "stale_logs": timedelta(hours=settings.console_stale_logs_hours)}
