"""Tokens for Graph and Exchange Online through MSAL, behind one small async protocol.

MSAL is synchronous and may block on the network (authority discovery, token calls, the
device-code polling loop), so every MSAL call runs in a worker thread. Tokens are cached
here until shortly before they expire, so the hot path never leaves the event loop.
Secrets and tokens are held in objects whose reprs do not show them, and are removed
from any error text before it reaches an exception.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import msal
import requests

from mailwarden.errors import AuthError, ConfigError
from mailwarden.m365.aadsts import describe_token_failure
from mailwarden.m365.certificate import CertificateCredential, load_certificate
from mailwarden.settings import CERTIFICATE_PASSWORD_ENV, SECRET_ENV, AuthMethod, Settings

#: Refresh a cached token this many seconds before it expires.
REFRESH_MARGIN = 300.0


class TokenSource(Protocol):
    async def token(self, scope: str) -> str:
        """A bearer token for `scope` (e.g. "https://graph.microsoft.com/.default")."""
        ...


@dataclass(frozen=True, slots=True)
class AccessToken:
    value: str = field(repr=False)
    expires_at: float  # time.time() seconds


MsalResult = Mapping[str, Any]
Acquire = Callable[[str], MsalResult]


class CachedTokenSource:
    """Caches tokens per scope; runs the (blocking) `acquire` in a worker thread.

    One acquisition at a time: the device-code prompt must appear once, and MSAL's
    application object is built lazily by the first call.
    """

    def __init__(
        self,
        acquire: Acquire,
        *,
        describe: str,
        secrets: tuple[str, ...] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._acquire = acquire
        self._describe = describe
        self._secrets = tuple(s for s in secrets if s)
        self._clock = clock
        self._cache: dict[str, AccessToken] = {}
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._describe}>"

    def _cached(self, scope: str) -> str | None:
        token = self._cache.get(scope)
        if token is not None and token.expires_at - REFRESH_MARGIN > self._clock():
            return token.value
        return None

    async def token(self, scope: str) -> str:
        cached = self._cached(scope)
        if cached is not None:
            return cached
        async with self._lock:
            cached = self._cached(scope)
            if cached is not None:
                return cached
            try:
                result = await asyncio.to_thread(self._acquire, scope)
            except AuthError as exc:
                raise AuthError(self._redact(str(exc))) from None
            except requests.Timeout as exc:
                raise AuthError(
                    f"timed out: the sign-in service did not answer a request for {scope} "
                    f"within its timeout ({type(exc).__name__}: {self._redact(str(exc))}); "
                    "check the network, the cloud (--cloud) and the login URL"
                ) from None
            except (requests.RequestException, OSError) as exc:
                raise AuthError(
                    f"could not reach the sign-in service for {scope} "
                    f"({type(exc).__name__}: {self._redact(str(exc))}); check the network, "
                    "the cloud (--cloud) and the login URL"
                ) from None
            except msal.exceptions.MsalError as exc:  # e.g. the tenant's discovery failed
                raise AuthError(
                    f"the sign-in service could not be used for {scope} "
                    f"({type(exc).__name__}: {self._redact(str(exc))}); check the tenant, "
                    "the cloud (--cloud) and the login URL, then run again"
                ) from None
            except ValueError as exc:  # MSAL's way of saying the authority or key is unusable
                raise AuthError(
                    f"sign-in failed before a token was requested ({self._redact(str(exc))}); "
                    "check the tenant, the cloud and the credential"
                ) from None
            token = self._accept(scope, result)
            self._cache[scope] = token
            return token.value

    def _accept(self, scope: str, result: MsalResult) -> AccessToken:
        value = result.get("access_token")
        if not isinstance(value, str) or not value:
            raise AuthError(describe_token_failure(self._redacted(result), scope=scope))
        try:
            lifetime = float(result.get("expires_in", 3600))
        except (TypeError, ValueError):
            lifetime = 3600.0
        return AccessToken(value=value, expires_at=self._clock() + lifetime)

    def _redact(self, text: str) -> str:
        """`text` from outside (the service, a library) with every secret taken out.

        Only outside text is redacted, never our own advice around it: a secret that happens
        to be a word ("wrong") would otherwise cut that word out of the sentence."""
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        return text

    def _redacted(self, result: MsalResult) -> MsalResult:
        return {key: self._redact(value) if isinstance(value, str) else value
                for key, value in result.items()}


class TimeoutSession(requests.Session):
    """A requests session that gives every request a timeout unless the caller sets one.

    MSAL sends its requests (authority discovery, token calls) without a timeout, and
    requests then waits forever: a sign-in endpoint that accepts the connection and never
    answers would hang the command in the TLS handshake."""

    def __init__(self, timeout: tuple[float, float]) -> None:
        super().__init__()
        self.default_timeout = timeout

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeout
        return super().request(method, url, *args, **kwargs)


def msal_http_session(settings: Settings) -> requests.Session:
    """The transport MSAL uses: every request bounded by the settings' timeouts.

    With a CA bundle, requests' environment (REQUESTS_CA_BUNDLE) would silently win over
    any `verify` passed to MSAL, so MSAL gets a session that ignores the environment.
    """
    session = TimeoutSession((settings.connect_timeout, settings.read_timeout))
    if settings.ca_bundle is not None:
        session.trust_env = False
        session.verify = str(settings.ca_bundle)
    return session


def _authority(settings: Settings) -> str:
    return f"{settings.endpoints.login_url}/{settings.require_tenant()}"


def _app_options(settings: Settings) -> dict[str, Any]:
    options: dict[str, Any] = {"authority": _authority(settings)}
    if settings.uses_custom_login:
        # Otherwise MSAL asks login.microsoftonline.com whether the custom host is an authority.
        options["instance_discovery"] = False
    options["http_client"] = msal_http_session(settings)
    return options


def _scopes(scope: str) -> list[str]:
    return [scope]


class _LazyApp:
    """Builds the MSAL application on first use, inside the worker thread (it does I/O)."""

    def __init__(self, build: Callable[[], Any]) -> None:
        self._build = build
        self._app: Any = None

    def get(self) -> Any:
        if self._app is None:
            self._app = self._build()
        return self._app


def secret_token_source(
    settings: Settings, *, env: Mapping[str, str] | None = None
) -> CachedTokenSource:
    """App-only tokens with a client secret taken from MAILWARDEN_CLIENT_SECRET."""
    environ = os.environ if env is None else env
    secret = environ.get(SECRET_ENV, "")
    if not secret:
        raise ConfigError(
            f"no client secret: set the environment variable {SECRET_ENV} (secrets are never "
            "taken from flags or files), or use a certificate with --certificate"
        )
    client_id = settings.require_client_id()
    options = _app_options(settings)
    app = _LazyApp(
        lambda: msal.ConfidentialClientApplication(client_id, client_credential=secret, **options)
    )

    def acquire(scope: str) -> MsalResult:
        result: MsalResult = app.get().acquire_token_for_client(scopes=_scopes(scope))
        return result

    return CachedTokenSource(
        acquire,
        describe=f"client secret for app {client_id} from {SECRET_ENV}",
        secrets=(secret,),
    )


def certificate_token_source(
    settings: Settings, *, env: Mapping[str, str] | None = None
) -> CachedTokenSource:
    """App-only tokens signed with a certificate (PEM file holding certificate and key)."""
    environ = os.environ if env is None else env
    if settings.certificate_path is None:
        raise ConfigError("no certificate given: pass --certificate PATH (a PEM with its key)")
    password = environ.get(CERTIFICATE_PASSWORD_ENV) or None
    credential: CertificateCredential = load_certificate(
        Path(settings.certificate_path), password=password
    )
    client_id = settings.require_client_id()
    options = _app_options(settings)
    app = _LazyApp(
        lambda: msal.ConfidentialClientApplication(
            client_id, client_credential=credential.msal_credential(), **options
        )
    )

    def acquire(scope: str) -> MsalResult:
        result: MsalResult = app.get().acquire_token_for_client(scopes=_scopes(scope))
        return result

    return CachedTokenSource(
        acquire,
        describe=f"certificate {credential.thumbprint} for app {client_id}",
        secrets=tuple(s for s in (password,) if s),
    )


DeviceCodePrompt = Callable[[str], None]


def device_code_token_source(settings: Settings, on_prompt: DeviceCodePrompt) -> CachedTokenSource:
    """Delegated tokens for a person, signed in once with a device code.

    The first scope asked for starts the device-code flow (its instructions go to
    `on_prompt`); later scopes are obtained silently with the refresh token.
    """
    client_id = settings.require_client_id()
    options = _app_options(settings)
    app = _LazyApp(lambda: msal.PublicClientApplication(client_id, **options))

    def acquire(scope: str) -> MsalResult:
        application = app.get()
        accounts = application.get_accounts()
        if accounts:
            silent = application.acquire_token_silent(_scopes(scope), account=accounts[0])
            if silent and "access_token" in silent:
                result: MsalResult = silent
                return result
        flow = application.initiate_device_flow(scopes=_scopes(scope))
        if "user_code" not in flow:
            return dict(flow)  # an error answer: described by the caller
        on_prompt(str(flow.get("message") or f"Enter code {flow['user_code']}"))
        result = application.acquire_token_by_device_flow(flow)
        return result

    return CachedTokenSource(acquire, describe=f"device-code sign-in for app {client_id}")


def token_source_from_settings(
    settings: Settings,
    *,
    on_device_code: DeviceCodePrompt | None = None,
    env: Mapping[str, str] | None = None,
) -> CachedTokenSource:
    """The token source the settings ask for (certificate preferred over a secret)."""
    method = settings.effective_auth()
    if method is AuthMethod.CERTIFICATE:
        return certificate_token_source(settings, env=env)
    if method is AuthMethod.SECRET:
        return secret_token_source(settings, env=env)
    if on_device_code is None:
        raise ConfigError("device-code sign-in needs somewhere to show the code")
    return device_code_token_source(settings, on_device_code)
