"""Tokens from an in-process emulator's own token endpoint, for the clients under test."""

from __future__ import annotations

import httpx

from mailwarden.emulator import DEFAULT_CLIENT_SECRET


async def emulator_token(client: httpx.AsyncClient, scope: str, tenant: str) -> str:
    """An app-only token for `scope` from the emulator `client` talks to."""
    response = await client.post(
        f"/{tenant}/oauth2/v2.0/token",
        data={"grant_type": "client_credentials", "client_id": "app",
              "client_secret": DEFAULT_CLIENT_SECRET, "scope": scope},
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


class EmulatorTokens:
    """A TokenSource that asks the in-process emulator's token endpoint, once a scope."""

    def __init__(self, client: httpx.AsyncClient, tenant: str) -> None:
        self.client = client
        self.tenant = tenant
        self.cache: dict[str, str] = {}

    async def token(self, scope: str) -> str:
        if scope not in self.cache:
            self.cache[scope] = await emulator_token(self.client, scope, self.tenant)
        return self.cache[scope]
