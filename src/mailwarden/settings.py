"""Frozen settings: which tenant, which cloud, how to authenticate, how hard to push.

Values come from, in rising priority: built-in defaults, a TOML file, `MAILWARDEN_*`
environment variables, and keyword overrides (the CLI's flags). The client secret is
deliberately not a setting: it is read from `MAILWARDEN_CLIENT_SECRET` when a token is
needed, so it never sits in a settings object, a repr, or a config file.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from mailwarden.errors import ConfigError

SECRET_ENV = "MAILWARDEN_CLIENT_SECRET"
CERTIFICATE_PASSWORD_ENV = "MAILWARDEN_CERTIFICATE_PASSWORD"


class Cloud(StrEnum):
    GLOBAL = "global"
    USGOV = "usgov"  # GCC High
    DOD = "dod"
    CHINA = "china"


@dataclass(frozen=True, slots=True, kw_only=True)
class CloudEndpoints:
    login_url: str
    graph_url: str
    exo_url: str
    graph_resource: str  # the token audience; stays the same when URLs are overridden
    exo_resource: str


CLOUDS: Mapping[Cloud, CloudEndpoints] = {
    Cloud.GLOBAL: CloudEndpoints(
        login_url="https://login.microsoftonline.com",
        graph_url="https://graph.microsoft.com",
        exo_url="https://outlook.office365.com",
        graph_resource="https://graph.microsoft.com",
        exo_resource="https://outlook.office365.com",
    ),
    Cloud.USGOV: CloudEndpoints(
        login_url="https://login.microsoftonline.us",
        graph_url="https://graph.microsoft.us",
        exo_url="https://outlook.office365.us",
        graph_resource="https://graph.microsoft.us",
        exo_resource="https://outlook.office365.us",
    ),
    Cloud.DOD: CloudEndpoints(
        login_url="https://login.microsoftonline.us",
        graph_url="https://dod-graph.microsoft.us",
        exo_url="https://outlook-dod.office365.us",
        graph_resource="https://dod-graph.microsoft.us",
        exo_resource="https://outlook-dod.office365.us",
    ),
    Cloud.CHINA: CloudEndpoints(
        login_url="https://login.chinacloudapi.cn",
        graph_url="https://microsoftgraph.chinacloudapi.cn",
        exo_url="https://partner.outlook.cn",
        graph_resource="https://microsoftgraph.chinacloudapi.cn",
        exo_resource="https://partner.outlook.cn",
    ),
}


class AuthMethod(StrEnum):
    CERTIFICATE = "certificate"
    SECRET = "secret"
    DEVICE_CODE = "device-code"


class CollectMode(StrEnum):
    """`fast` is the real collector; `sequential` is the naive baseline it is measured against:
    one request at a time, server-default page sizes, no `$select`, no `$batch`."""

    FAST = "fast"
    SEQUENTIAL = "sequential"


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    max_attempts: int = 6  # per request, the first try included
    backoff_base: float = 0.5  # seconds; doubled per attempt, with full jitter
    backoff_max: float = 30.0
    retry_after_max: float = 300.0  # a Retry-After longer than this is capped, not obeyed


#: Two hours. The size of a tenant is not known before it is read, so the deadline is fixed
#: and generous: the emulated large tenant (~50,000 users, 46,493 mailboxes) is collected
#: in 73 s and by the one-request-at-a-time baseline in 45 minutes (benchmarks/README.md);
#: a collection still waiting after two hours is stuck, not slow. Longer runs can raise it
#: (--deadline, or the setting `collect_deadline` in seconds).
DEFAULT_COLLECT_DEADLINE = 2 * 60 * 60.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    tenant: str | None = None  # tenant id (GUID) or a verified domain
    client_id: str | None = None
    cloud: Cloud = Cloud.GLOBAL
    auth: AuthMethod | None = None  # None: certificate when one is given, else secret
    certificate_path: Path | None = None  # PEM holding the certificate and its private key
    login_url: str | None = None  # overrides of the cloud's endpoints (emulator, proxies)
    graph_url: str | None = None
    exo_url: str | None = None
    ca_bundle: Path | None = None  # trust this CA (and only it) for every HTTPS call
    graph_concurrency: int = 16
    exo_concurrency: int = 3
    #: Each tenant's request rate budget per service (requests per second, a `$batch`
    #: counting each of its parts) and burst; not set: no budget, the requests in flight
    #: and Retry-After alone pace them. docs/config.md says what Microsoft publishes.
    graph_rate: float | None = None
    graph_burst: int | None = None
    exo_rate: float | None = None
    exo_burst: int | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    connect_timeout: float = 10.0
    read_timeout: float = 120.0  # Exchange cmdlets over large tenants answer slowly
    #: Seconds a whole collection may take before it stops and keeps what it has read.
    collect_deadline: float = DEFAULT_COLLECT_DEADLINE
    collect_mode: CollectMode = CollectMode.FAST
    #: Accepted exceptions (YAML) that scan, report and watch apply; --exceptions wins.
    exceptions_file: Path | None = None
    #: Break-glass (emergency access) accounts, by UPN or object id, named once here:
    #: every conditional-access change remediation makes leaves them excluded (a new
    #: policy excludes them, a removal from an exclusion list never takes them out).
    #: TOML `break_glass = ["bg1@contoso.onmicrosoft.com", ...]`, environment
    #: MAILWARDEN_BREAK_GLASS (comma-separated), `--break-glass UPN` (repeat) on the
    #: remediate commands. With none, a new legacy-auth block is still created, report-only
    #: (it blocks nobody), and the plan warns that it excludes nobody.
    break_glass: tuple[str, ...] = ()
    #: The URL people open the console at. When set, `watch` puts a "was this you?" link
    #: to the console in each email a custodian gets about an incident.
    console_url: str | None = None
    #: The console's overview flags a tenant STALE when its latest collection is older than
    #: this many hours (a daily collection, with two hours' slack), or its latest log pull
    #: older than `console_stale_logs_hours`.
    console_stale_posture_hours: float = 26.0
    console_stale_logs_hours: float = 2.0
    #: The console's team mode (Entra ID sign-in) uses its own app registration, a web app
    #: with the console's app roles, in the tenant and cloud above (login_url and ca_bundle
    #: apply too). Its credential is named, never held: a certificate file, or the NAME of
    #: the environment variable that holds the client secret.
    console_client_id: str | None = None
    console_redirect_uri: str | None = None  # not set: the console's URL + /auth/callback
    console_certificate_path: Path | None = None
    console_client_secret_env: str | None = None

    @property
    def endpoints(self) -> CloudEndpoints:
        base = CLOUDS[self.cloud]
        return replace(
            base,
            login_url=(self.login_url or base.login_url).rstrip("/"),
            graph_url=(self.graph_url or base.graph_url).rstrip("/"),
            exo_url=(self.exo_url or base.exo_url).rstrip("/"),
        )

    @property
    def graph_scope(self) -> str:
        return CLOUDS[self.cloud].graph_resource + "/.default"

    @property
    def exo_scope(self) -> str:
        return CLOUDS[self.cloud].exo_resource + "/.default"

    @property
    def uses_custom_login(self) -> bool:
        """True when the login host is not the cloud's own (an emulator or a test double)."""
        return (
            self.login_url is not None
            and self.login_url.rstrip("/") != CLOUDS[self.cloud].login_url
        )

    def effective_auth(self) -> AuthMethod:
        if self.auth is not None:
            return self.auth
        return AuthMethod.CERTIFICATE if self.certificate_path else AuthMethod.SECRET

    def require_tenant(self) -> str:
        if not self.tenant:
            raise ConfigError(
                "no tenant given: pass --tenant or set MAILWARDEN_TENANT "
                "(the tenant id, or a verified domain such as contoso.onmicrosoft.com)"
            )
        return self.tenant

    def require_client_id(self) -> str:
        if not self.client_id:
            raise ConfigError(
                "no application (client) id given: pass --client-id or set "
                "MAILWARDEN_CLIENT_ID to the app registration that mailwarden signs in as"
            )
        return self.client_id


_ENV = {
    "tenant": "MAILWARDEN_TENANT",
    "client_id": "MAILWARDEN_CLIENT_ID",
    "cloud": "MAILWARDEN_CLOUD",
    "auth": "MAILWARDEN_AUTH",
    "certificate_path": "MAILWARDEN_CERTIFICATE",
    "login_url": "MAILWARDEN_LOGIN_URL",
    "graph_url": "MAILWARDEN_GRAPH_URL",
    "exo_url": "MAILWARDEN_EXO_URL",
    "ca_bundle": "MAILWARDEN_CA_BUNDLE",
    "graph_concurrency": "MAILWARDEN_GRAPH_CONCURRENCY",
    "exo_concurrency": "MAILWARDEN_EXO_CONCURRENCY",
    "graph_rate": "MAILWARDEN_GRAPH_RATE",
    "graph_burst": "MAILWARDEN_GRAPH_BURST",
    "exo_rate": "MAILWARDEN_EXO_RATE",
    "exo_burst": "MAILWARDEN_EXO_BURST",
    "exceptions_file": "MAILWARDEN_EXCEPTIONS",
    "break_glass": "MAILWARDEN_BREAK_GLASS",
    "console_url": "MAILWARDEN_CONSOLE_URL",
    "console_stale_posture_hours": "MAILWARDEN_CONSOLE_STALE_POSTURE_HOURS",
    "console_stale_logs_hours": "MAILWARDEN_CONSOLE_STALE_LOGS_HOURS",
    "console_client_id": "MAILWARDEN_CONSOLE_CLIENT_ID",
    "console_redirect_uri": "MAILWARDEN_CONSOLE_REDIRECT_URI",
    "console_certificate_path": "MAILWARDEN_CONSOLE_CERTIFICATE",
    "console_client_secret_env": "MAILWARDEN_CONSOLE_CLIENT_SECRET_ENV",
}
#: The environment variable of each setting that has one (docs/config.md lists them).
ENV_VARS: Mapping[str, str] = _ENV
_SECRET_LIKE = {"client_secret", "secret", "password", "token"}


def _choice(kind: type[StrEnum], value: Any) -> Any:
    try:
        return kind(str(value).lower())
    except ValueError:
        names = [member.value for member in kind]
        raise ValueError(f"use {', '.join(names[:-1])} or {names[-1]}") from None


def _number(kind: type[int] | type[float], value: Any) -> Any:
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise ValueError("give a whole number" if kind is int else "give a number") from None


def _variable_name(value: Any) -> str:
    """The name of an environment variable; a value that is not one (a secret pasted in by
    mistake) is refused without being repeated."""
    text = str(value)
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,127}", text):
        raise ValueError("give the NAME of the environment variable that holds the console's "
                         "client secret (such as MAILWARDEN_CONSOLE_CLIENT_SECRET), never the "
                         "secret")
    return text


def _coerce(name: str, value: Any) -> Any:
    """Turn a TOML/env/flag value into the field's type, or raise a ConfigError."""
    try:
        if name == "cloud":
            return _choice(Cloud, value)
        if name == "auth":
            return _choice(AuthMethod, value)
        if name == "collect_mode":
            return _choice(CollectMode, value)
        if name in {"certificate_path", "ca_bundle", "exceptions_file",
                    "console_certificate_path"}:
            return Path(str(value)).expanduser()
        if name in {"graph_concurrency", "exo_concurrency", "graph_burst", "exo_burst"}:
            number = _number(int, value)
            if number < 1:
                raise ValueError("must be at least 1")
            return number
        if name in {"graph_rate", "exo_rate"}:
            rate = _number(float, value)
            if not 0 < rate < float("inf"):
                raise ValueError("must be positive: requests per second")
            return rate
        if name in {"connect_timeout", "read_timeout", "collect_deadline",
                    "console_stale_posture_hours", "console_stale_logs_hours"}:
            seconds = _number(float, value)
            if seconds <= 0:
                raise ValueError("must be positive")
            return seconds
        if name == "console_client_secret_env":
            return _variable_name(value)
        if name == "console_redirect_uri" and not str(value).startswith(("https://", "http://")):
            raise ValueError("give the absolute URL of the console's /auth/callback")
        if name == "break_glass":
            items = value.split(",") if isinstance(value, str) else value
            if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
                raise ValueError("give a list of UPNs or object ids")
            return tuple(dict.fromkeys(i.strip() for i in items if i.strip()))
        if name == "retry":
            if isinstance(value, RetryPolicy):
                return value
            if not isinstance(value, Mapping):
                raise ValueError("must be a table")
            known = {f.name for f in fields(RetryPolicy)}
            unknown = set(value) - known
            if unknown:
                raise ValueError(f"unknown key{'s' if len(unknown) > 1 else ''} "
                                 f"{', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")
            return RetryPolicy(**{k: type(getattr(RetryPolicy(), k))(v) for k, v in value.items()})
    except ValueError as exc:
        # A secret pasted where its variable's name belongs is not repeated.
        shown = "the value" if name == "console_client_secret_env" else repr(value)
        raise ConfigError(f"setting {name!r}: {shown} is not valid ({exc})") from exc
    return None if value is None else str(value)


def load_settings(
    *,
    toml_path: Path | None = None,
    env: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Defaults < TOML (`[mailwarden]` table or top level) < environment < overrides.

    An override of None means "not given" and leaves the lower layers in place.
    """
    environ = os.environ if env is None else env
    values: dict[str, Any] = {}
    known = {f.name for f in fields(Settings)}
    if toml_path is not None:
        try:
            document = tomllib.loads(toml_path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{toml_path}: cannot read settings ({exc})") from exc
        table = document.get("mailwarden", document)
        secrets = _SECRET_LIKE & {str(k).lower() for k in table}
        if secrets:
            raise ConfigError(
                f"{toml_path}: remove {', '.join(sorted(secrets))}; secrets are read only from the "
                f"environment variable {SECRET_ENV}"
            )
        unknown = set(table) - known
        if unknown:
            raise ConfigError(f"{toml_path}: unknown setting{'s' if len(unknown) > 1 else ''} "
                              f"{', '.join(sorted(unknown))}")
        values.update(table)
    for name, variable in _ENV.items():
        if environ.get(variable):
            values[name] = environ[variable]
    for name, value in overrides.items():
        if name not in known:
            raise ConfigError(f"unknown setting {name!r}")
        if value is not None:
            values[name] = value
    settings = Settings(**{name: _coerce(name, value) for name, value in values.items()})
    for service in ("graph", "exo"):
        if getattr(settings, f"{service}_burst") is not None and getattr(
                settings, f"{service}_rate") is None:
            raise ConfigError(f"setting '{service}_burst' needs '{service}_rate': a burst is "
                              "part of a rate budget")
    return settings
