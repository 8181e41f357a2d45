"""Signing in to a fleet tenant from what the registry holds: the app's client id and
where its key is (a certificate's path, or the NAME of the environment variable that holds
its client secret on the worker). The secret is read from the worker's environment when a
job starts, never from the database.

The fleet's one multi-tenant app signs in to each customer tenant by naming the tenant in
the token request (`https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token`), as
Microsoft's client-credentials flow documents for an app consented in several tenants;
an app registered in the tenant itself signs in the same way. Either way the settings of
one tenant are the worker's own (endpoints, CA, retry policy, concurrency) with the
tenant, client id and key of the registry.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace

from mailwarden.errors import ConfigError
from mailwarden.m365.auth import CachedTokenSource, token_source_from_settings
from mailwarden.model.fleet import FleetTenant
from mailwarden.settings import SECRET_ENV, AuthMethod, Settings


def tenant_settings(tenant: FleetTenant, base: Settings) -> Settings:
    """The worker's settings for one tenant of the fleet."""
    credential = tenant.credential
    if credential.certificate_path is not None:
        return replace(base, tenant=tenant.tenant_id, client_id=credential.client_id,
                       auth=AuthMethod.CERTIFICATE, certificate_path=credential.certificate_path)
    return replace(base, tenant=tenant.tenant_id, client_id=credential.client_id,
                   auth=AuthMethod.SECRET, certificate_path=None)


def tenant_tokens(tenant: FleetTenant, settings: Settings,
                  env: Mapping[str, str] | None = None) -> CachedTokenSource:
    """The token source of one tenant: its certificate, or the secret in the variable the
    registry names (ConfigError naming the variable, never a value, when it is unset)."""
    environ = os.environ if env is None else env
    secret_env = tenant.credential.secret_env
    if secret_env is None:
        return token_source_from_settings(settings, env=environ)
    secret = environ.get(secret_env, "")
    if not secret:
        raise ConfigError(f"tenant {tenant.tenant_id}: the environment variable "
                          f"{secret_env} is not set on this worker; set it where the "
                          "workers run (it holds the app's client secret)")
    return token_source_from_settings(settings, env={SECRET_ENV: secret})
