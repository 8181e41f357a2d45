"""The tenants one emulator serves, and which of them a request is for.

Entra and the services name the tenant in three places, and so does the emulator:

- sign-in: the path, `/{tenant}/oauth2/v2.0/token` (a tenant id or a verified domain);
- Microsoft Graph: the token, whose `tid` claim names the tenant it was issued for (Graph
  URLs carry no tenant, so a Graph request is served from the token's tenant);
- Exchange: the path, `/adminapi/beta/{tenant}/InvokeCommand`, checked against the token's
  `tid` (`exchange_http`).

Each tenant is an `Emulator` of its own (state, throttling, faults, counts, sign-ins); they
share only the key tokens are signed with. A tenant is built from its `TenantSpec` the
first time a request names it, and its log records the first time a client reads them, so
an emulator can list two hundred tenants and hold only what clients have touched (a small
synthetic tenant: about 2.5 MB, and 11 MB more once its logs are read). A request naming
no served tenant meets `nobody`: an empty tenant that answers as the services answer for
an unknown tenant (Entra's AADSTS90002, Exchange's "could not be found", Graph's 401),
with counts of its own.

With one tenant (`create_app`) every request is that tenant's, as before: its own id,
its domains and the aliases `common` / `organizations` reach it, and a token it did not
issue meets its own token check.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette

from mailwarden.emulator.config import EmulatorConfig
from mailwarden.emulator.runtime import Emulator
from mailwarden.errors import ConfigError
from mailwarden.tenant.logs import LogKind
from mailwarden.tenant.recorded import RecordedTenant

Logs = Mapping[LogKind, Iterable[Mapping[str, Any]]]
#: Tenant names Entra accepts in place of a tenant at sign-in.
ALIASES = frozenset({"common", "organizations"})


@dataclass(frozen=True, slots=True, kw_only=True)
class TenantSpec:
    """A tenant to serve: its id and verified domains, known up front, how to build it
    when a request first names it, and its log records, made when a client first reads
    them (None: it has none)."""

    tenant_id: str
    domains: tuple[str, ...] = ()
    build: Callable[[], RecordedTenant]
    logs: Callable[[], Logs] | None = None


def recorded_spec(tenant: RecordedTenant, logs: Logs | None = None) -> TenantSpec:
    """A spec for a tenant already in memory."""
    info = tenant.data.get("tenant")
    info = info if isinstance(info, Mapping) else {}
    domains = [str(d) for d in info.get("verifiedDomains") or () if d]
    if info.get("defaultDomain"):
        domains.insert(0, str(info["defaultDomain"]))
    tenant_id = str(info.get("tenantId") or "00000000-0000-0000-0000-000000000000")
    return TenantSpec(tenant_id=tenant_id, domains=tuple(dict.fromkeys(domains)),
                      build=lambda: tenant, logs=(lambda: logs) if logs else None)


class Tenancy:
    """The served tenants by id and by domain; builds each on first use, under a lock."""

    def __init__(
        self,
        specs: Sequence[TenantSpec],
        config: EmulatorConfig,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not specs:
            raise ConfigError("an emulator serves at least one tenant")
        self.config = config
        self._clock = clock
        self._key = secrets.token_bytes(32)
        self._lock = threading.Lock()
        self._specs = {spec.tenant_id.lower(): spec for spec in specs}
        if len(self._specs) != len(specs):
            raise ConfigError("two tenants of the emulator have the same tenant id")
        self._order = [spec.tenant_id.lower() for spec in specs]
        owners: dict[str, set[str]] = {}
        for spec in specs:
            for domain in spec.domains:
                owners.setdefault(domain.lower(), set()).add(spec.tenant_id.lower())
        # A domain two synthetic tenants share names neither: real domains are unique.
        self._domains = {d: next(iter(ids)) for d, ids in owners.items() if len(ids) == 1}
        self._built: dict[str, Emulator] = {}
        self._loopback = False
        self.nobody = Emulator(
            RecordedTenant(data={"tenant": {"tenantId": str(uuid.uuid4())}}), config,
            key=self._key, clock=clock)
        if len(specs) == 1:
            self.primary()  # one tenant: built at once, as the emulator always did

    @property
    def multi(self) -> bool:
        return len(self._order) > 1

    @property
    def tenant_ids(self) -> tuple[str, ...]:
        return tuple(self._specs[key].tenant_id for key in self._order)

    def built(self) -> dict[str, Emulator]:
        """The tenants built so far, by tenant id."""
        with self._lock:
            return {self._specs[key].tenant_id: self._built[key]
                    for key in self._order if key in self._built}

    @property
    def loopback(self) -> bool:
        return self._loopback

    @loopback.setter
    def loopback(self, value: bool) -> None:
        """Served on a socket: timeouts and drops act on it (every tenant, built or not)."""
        with self._lock:
            self._loopback = value
            for emulator in (*self._built.values(), self.nobody):
                emulator.conditions.loopback = value

    def primary(self) -> Emulator:
        """The first tenant: the one `emulator_of(app)` and `/_emulator/stats` show."""
        found = self._get(self._order[0])
        assert found is not None
        return found

    def named(self, name: str) -> Emulator | None:
        """The tenant a tenant id or a verified domain names (None: none served)."""
        key = name.strip().lower()
        return self._get(key if key in self._specs else self._domains.get(key, ""))

    def for_path(self, name: str) -> Emulator:
        """The tenant an Exchange path names; `nobody` when it names none."""
        if not self.multi:
            return self.primary()
        return self.named(name) or self.nobody

    def for_login(self, name: str) -> Emulator:
        """The tenant a sign-in path names. Entra's aliases reach the first tenant: with
        no user to read a home tenant from, the emulated administrator's is the first."""
        if not self.multi or name.strip().lower() in ALIASES:
            return self.primary()
        return self.named(name) or self.nobody

    def for_token(self, authorization: str | None) -> Emulator:
        """The tenant a Graph request's token was issued for; `nobody` (which refuses the
        token) when the token is not one of this emulator's."""
        if not self.multi:
            return self.primary()
        tenant = self.nobody.tokens.issued_for(authorization)
        found = self.named(tenant) if tenant else None
        return found or self.nobody

    def _get(self, key: str) -> Emulator | None:
        spec = self._specs.get(key)
        if spec is None:
            return None
        with self._lock:
            found = self._built.get(key)
        if found is not None:
            return found
        built = self._build(spec)  # outside the lock: building takes a while
        with self._lock:
            return self._built.setdefault(key, built)

    def _build(self, spec: TenantSpec) -> Emulator:
        emulator = Emulator(spec.build(), self.config, key=self._key, clock=self._clock)
        if emulator.state.tenant_id.lower() != spec.tenant_id.lower():
            raise ConfigError(f"the tenant built for {spec.tenant_id} has the id "
                              f"{emulator.state.tenant_id}; its spec and tenant.json differ")
        emulator.conditions.loopback = self._loopback
        if spec.logs is not None:
            emulator.state.defer_logs(spec.logs)
        return emulator


def tenancy_of(app: Starlette) -> Tenancy:
    tenancy: Tenancy = app.state.tenancy
    return tenancy
