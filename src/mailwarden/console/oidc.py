"""Team mode sign-in with Entra ID: the OpenID Connect authorization code flow, through MSAL.

    entra = entra_sign_in(settings, base_url=config.base_url)   # at start: fails fast
    key, url = entra.begin(target="/")          # MSAL makes state, nonce and the PKCE pair
    identity = entra.complete(entra.flows.take(key), dict(request.query_params))

MSAL's `initiate_auth_code_flow` builds the authorization request (state, nonce, S256 code
challenge) and keeps the flow; `acquire_token_by_auth_code_flow` checks the answer's state
and redeems the code with the code verifier and the app's credential. The flow is kept in
this process (`FlowStore`) under a random key that the browser holds in a cookie, so the
verifier and nonce never leave the server and a flow is only finished by the browser that
began it. MSAL does not check id tokens; `idtoken.verify_id_token` does, against the keys
the tenant's OpenID configuration names (`jwks_uri`), fetched again once when a token names
a key not seen yet (Entra rolls its keys).

The code comes back in the query (Entra's default for a code), not as a form post: the
flow's cookie must reach the callback, and browsers keep a SameSite=Lax cookie off a
cross-site POST (form_post would need SameSite=None, so HTTPS everywhere, and a callback
outside the console's CSRF check). A code in a URL is worth little here: it is used once,
within minutes, only with the PKCE verifier this process holds and the app's credential,
and the console's pages send no Referer.

Against a custom login host (the emulator) MSAL gets `instance_discovery=False` and a
requests session that ignores the environment and trusts only `ca_bundle`; against the
real cloud it keeps its defaults (ARCHITECTURE.md, "Verified facts"). MSAL and the
discovery fetches block, so callers run `begin` and `complete` in a worker thread.
"""

from __future__ import annotations

import os
import secrets
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import msal
import requests

from mailwarden.console.idtoken import Identity, IdTokenRejected, UnknownSigningKey
from mailwarden.console.idtoken import verify_id_token as _verify
from mailwarden.errors import AuthError, ConfigError, ServiceError
from mailwarden.m365.auth import TimeoutSession
from mailwarden.m365.certificate import CertificateCredential, load_certificate
from mailwarden.settings import CERTIFICATE_PASSWORD_ENV, Settings

CALLBACK_PATH = "/auth/callback"
#: How long a sign-in may take between leaving for Entra ID and coming back.
FLOW_LIFETIME = timedelta(minutes=10)


class SignInRefused(AuthError):
    """Entra ID refused the sign-in, or its answer does not belong to this sign-in."""


@dataclass(frozen=True, slots=True, kw_only=True)
class EntraSettings:
    """What team mode needs, resolved when the console starts."""

    authority: str  # https://login.microsoftonline.com/{tenant}
    client_id: str
    redirect_uri: str
    secret: str | None = field(default=None, repr=False)
    certificate: CertificateCredential | None = None
    ca_bundle: Path | None = None
    custom_login: bool = False  # a login host that is not the cloud's (the emulator)
    timeout: tuple[float, float] = (10.0, 30.0)


def entra_settings(
    settings: Settings, *, base_url: str, env: Mapping[str, str] | None = None
) -> EntraSettings:
    """Team mode's settings; a ConfigError saying what is missing."""
    environ = os.environ if env is None else env
    tenant = settings.require_tenant()
    if not settings.console_client_id:
        raise ConfigError("team mode needs the console's app registration: set "
                          "console_client_id (MAILWARDEN_CONSOLE_CLIENT_ID)")
    secret, certificate = None, None
    if settings.console_certificate_path is not None:
        certificate = load_certificate(settings.console_certificate_path,
                                       password=environ.get(CERTIFICATE_PASSWORD_ENV) or None)
    elif settings.console_client_secret_env:
        secret = environ.get(settings.console_client_secret_env) or None
        if secret is None:
            raise ConfigError(f"the environment variable {settings.console_client_secret_env} "
                              "(named by console_client_secret_env) holds no client secret; "
                              "set it")
    else:
        raise ConfigError("team mode needs the console app's credential: set "
                          "console_certificate_path, or console_client_secret_env to the name of "
                          "the environment variable holding its client secret")
    return EntraSettings(
        authority=f"{settings.endpoints.login_url}/{tenant}",
        client_id=settings.console_client_id,
        redirect_uri=settings.console_redirect_uri or f"{base_url.rstrip('/')}{CALLBACK_PATH}",
        secret=secret, certificate=certificate, ca_bundle=settings.ca_bundle,
        custom_login=settings.uses_custom_login,
        timeout=(settings.connect_timeout, min(settings.read_timeout, 30.0)))


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingSignIn:
    flow: Mapping[str, Any] = field(repr=False)  # MSAL's: holds the verifier and nonce
    target: str  # where to go once signed in
    started: datetime

    @property
    def nonce(self) -> str:
        """The nonce the authorization request carried (MSAL sends a hash of the flow's)."""
        sent = parse_qs(urlsplit(str(self.flow.get("auth_uri", ""))).query).get("nonce")
        if not sent:
            raise SignInRefused("the sign-in request carried no nonce; start again")
        return sent[0]


class FlowStore:
    """Sign-ins under way, in memory, each taken once and only within `FLOW_LIFETIME`; the
    oldest are dropped beyond `limit` so that a flood of starts cannot fill the memory."""

    def __init__(self, *, clock: Callable[[], datetime], limit: int = 10_000) -> None:
        self._clock = clock
        self._limit = limit
        self._flows: OrderedDict[str, PendingSignIn] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, flow: Mapping[str, Any], target: str) -> str:
        key = secrets.token_urlsafe(32)
        with self._lock:
            now = self._clock()
            while self._flows and (len(self._flows) >= self._limit or now - next(
                    iter(self._flows.values())).started >= FLOW_LIFETIME):
                self._flows.popitem(last=False)
            self._flows[key] = PendingSignIn(flow=dict(flow), target=target, started=now)
        return key

    def take(self, key: str) -> PendingSignIn | None:
        with self._lock:
            pending = self._flows.pop(key, None)
        if pending is None or self._clock() - pending.started >= FLOW_LIFETIME:
            return None
        return pending


class _Forgetful(msal.TokenCache):  # type: ignore[misc]
    """The console needs each id token once: MSAL keeps no tokens or refresh tokens."""

    def add(self, event: Any, now: Any = None) -> None:
        return None


class EntraSignIn:
    """One console's Entra ID sign-in: MSAL's application, the tenant's OpenID configuration
    and keys (fetched once, the keys again on an unknown kid), and the flows under way."""

    def __init__(self, settings: EntraSettings, *, clock: Callable[[], datetime]) -> None:
        self.settings = settings
        self.clock = clock
        self.flows = FlowStore(clock=clock)
        self._lock = threading.Lock()
        self._app: Any = None
        self._configuration: dict[str, Any] | None = None
        self._jwks: dict[str, Any] | None = None

    def _session(self) -> requests.Session:
        session = TimeoutSession(self.settings.timeout)
        if self.settings.ca_bundle is not None:
            session.trust_env = False  # else REQUESTS_CA_BUNDLE wins over `verify`
            session.verify = str(self.settings.ca_bundle)
        return session

    def _application(self) -> Any:
        with self._lock:
            if self._app is None:
                options: dict[str, Any] = {"authority": self.settings.authority,
                                           "http_client": self._session(),
                                           "token_cache": _Forgetful()}
                if self.settings.custom_login:
                    options["instance_discovery"] = False
                credential: Any = (self.settings.certificate.msal_credential()
                                   if self.settings.certificate else self.settings.secret)
                self._app = msal.ConfidentialClientApplication(
                    self.settings.client_id, client_credential=credential, **options)
            return self._app

    def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            with self._session() as session:
                answer = session.get(url)
                answer.raise_for_status()
                body = answer.json()
        except (requests.RequestException, ValueError) as exc:
            raise ServiceError(f"could not read {what} from {url} ({type(exc).__name__}); "
                               "check the tenant, the login URL and the network") from None
        if not isinstance(body, dict):
            raise ServiceError(f"{url} did not answer with {what}")
        return body

    def configuration(self) -> dict[str, Any]:
        """The tenant's OpenID configuration (issuer, jwks_uri, endpoints)."""
        if self._configuration is None:
            url = f"{self.settings.authority}/v2.0/.well-known/openid-configuration"
            found = self._get_json(url, "the OpenID configuration")
            if "{tenantid}" in str(found.get("issuer", "")) or not found.get("jwks_uri"):
                raise ConfigError("team mode signs people in to one tenant: set tenant to "
                                  "its id or domain, not common or organizations")
            self._configuration = found
        return self._configuration

    def _keys(self, *, refresh: bool = False) -> dict[str, Any]:
        if self._jwks is None or refresh:
            self._jwks = self._get_json(str(self.configuration()["jwks_uri"]), "signing keys")
        return self._jwks

    def begin(self, target: str) -> tuple[str, str]:
        """Start a sign-in: the flow's key (for the browser's cookie) and the URL to send
        the browser to."""
        self.configuration()  # a wrong tenant or host fails here, before anyone leaves
        try:
            with warnings.catch_warnings():
                # MSAL recommends form_post; see the module's docstring for why it is query.
                warnings.filterwarnings("ignore", "response_mode='form_post'", UserWarning)
                flow = self._application().initiate_auth_code_flow(
                    scopes=[], redirect_uri=self.settings.redirect_uri, response_mode="query")
        except (requests.RequestException, ValueError) as exc:
            raise ServiceError(f"could not start the sign-in with Entra ID "
                               f"({type(exc).__name__}); check the tenant and the login URL"
                               ) from None
        return self.flows.put(flow, target), str(flow["auth_uri"])

    def complete(self, pending: PendingSignIn, answer: Mapping[str, str]) -> Identity:
        """Redeem the authorization response and check the id token; IdTokenRejected or
        SignInRefused when it cannot be trusted."""
        if answer.get("error"):
            raise SignInRefused(f"Entra ID refused the sign-in: {answer.get('error')}: "
                                f"{answer.get('error_description', '')}".strip())
        try:
            result = self._application().acquire_token_by_auth_code_flow(
                dict(pending.flow), dict(answer))
        except ValueError:  # MSAL: the state is not this flow's
            raise SignInRefused("the answer does not belong to this sign-in; start again"
                                ) from None
        except RuntimeError:  # MSAL: the id token's nonce is not this flow's
            raise IdTokenRejected("the id token's nonce is not the one of this sign-in"
                                  ) from None
        except requests.RequestException as exc:
            raise ServiceError(f"could not reach Entra ID to finish the sign-in "
                               f"({type(exc).__name__}); try again") from None
        if "error" in result:
            raise SignInRefused(f"Entra ID refused the sign-in: {result.get('error')}: "
                                f"{result.get('error_description', '')}".strip())
        token = result.get("id_token")
        if not isinstance(token, str):
            raise IdTokenRejected("Entra ID answered without an id token")
        return self.verify(token, nonce=pending.nonce)

    def verify(self, token: str, *, nonce: str) -> Identity:
        def check(jwks: Mapping[str, Any]) -> Identity:
            return _verify(token, jwks=jwks, issuer=str(self.configuration()["issuer"]),
                           client_id=self.settings.client_id, nonce=nonce,
                           now=self.clock().timestamp())

        try:
            return check(self._keys())
        except UnknownSigningKey:
            return check(self._keys(refresh=True))


def entra_sign_in(
    settings: Settings, *, base_url: str, clock: Callable[[], datetime],
    env: Mapping[str, str] | None = None,
) -> EntraSignIn:
    return EntraSignIn(entra_settings(settings, base_url=base_url, env=env), clock=clock)
