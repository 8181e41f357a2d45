"""What a collection does about the tenant's licences.

Graph refuses some reads to tenants without a licence, whatever the app's permissions
(m365.licences): users' signInActivity and the registration report need Entra ID P1, the
PIM eligibility schedules P2. Such a refusal is a *limitation* of the tenant, recorded with
its reason (tenant.licences), never a failed source, and the rest of the source is read:
- the user list with signInActivity is refused whole, so the users are read again without
  it (`users_with_fallback`);
- Graph is known to give the same refusal to tenants that do hold P1 when the app cannot
  read their licences (microsoftgraph/microsoft-graph-docs-contrib issues 3033 and 3581:
  "Add Directory.Read.All permission as well"); a tenant whose `/subscribedSkus` show P1
  is asked once more, and the limitation then says what to grant.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from mailwarden.errors import LicenceRequiredError
from mailwarden.model.inventory import SIGN_IN_ACTIVITY
from mailwarden.tenant.licences import TenantLicences, licences_from_skus, limitation_reason

Rows = list[dict[str, Any]]


class KnownLicences:
    """The tenant's subscriptions, once read (or once reading them failed)."""

    def __init__(self) -> None:
        self._read = asyncio.Event()
        self._skus: Rows | None = None

    def settle(self, skus: Rows | None) -> None:
        self._skus = skus
        self._read.set()

    async def tier(self) -> TenantLicences | None:
        """The Entra ID tier the subscriptions provide; None when they were not read."""
        await self._read.wait()
        return None if self._skus is None else licences_from_skus(self._skus)


async def users_with_fallback(
    with_sign_in: Callable[[], Awaitable[Rows]],
    without_sign_in: Callable[[], Awaitable[Rows]],
    licences: KnownLicences,
    limitations: MutableMapping[str, str],
) -> Rows:
    """Users with signInActivity, or without it when Graph refuses it for want of Entra ID
    P1 (the refusal covers the whole request), recording the limitation."""
    try:
        return await with_sign_in()
    except LicenceRequiredError:
        tier = await licences.tier()
    if tier is not None and tier.p1:
        try:
            return await with_sign_in()
        except LicenceRequiredError:
            pass
    limitations[SIGN_IN_ACTIVITY] = limitation_reason(SIGN_IN_ACTIVITY, tier)
    return await without_sign_in()
