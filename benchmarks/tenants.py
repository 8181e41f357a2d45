"""The multi-tenant emulator's memory: N small synthetic tenants listed, each built by one
Graph request, then each one's logs read. Prints one JSON line (RSS in MB after each step).

    python benchmarks/tenants.py [N]      # default 200
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

import httpx

from mailwarden.emulator import TenantSpec, create_tenants_app
from mailwarden.emulator.tenancy import Logs
from mailwarden.synth import generate, tenant_identity
from mailwarden.synth.logs import synthetic_logs
from mailwarden.tenant.recorded import RecordedTenant

GRAPH = "https://graph.microsoft.com/.default"


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _spec(seed: int) -> TenantSpec:
    def build() -> RecordedTenant:
        return generate("small", seed=seed).recorded

    def logs() -> Logs:
        tenant = generate("small", seed=seed)
        assert tenant.model is not None
        return synthetic_logs(tenant.model, size=tenant.size, seed=seed).by_kind()

    identity = tenant_identity(seed)
    return TenantSpec(tenant_id=identity.tenant_id, domains=identity.verified_domains,
                      build=build, logs=logs)


async def main(count: int) -> dict[str, float]:
    start = _rss_mb()
    specs = [_spec(seed) for seed in range(count)]
    app = create_tenants_app(specs)
    listed = _rss_mb()
    began = time.perf_counter()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="https://emulator.test") as client:
        tokens = {}
        for spec in specs:
            answer = await client.post(f"/{spec.tenant_id}/oauth2/v2.0/token", data={
                "grant_type": "client_credentials", "client_id": "app",
                "client_secret": "emulator-secret", "scope": GRAPH})
            tokens[spec.tenant_id] = answer.json()["access_token"]
            (await client.get("/v1.0/organization", headers={
                "Authorization": f"Bearer {tokens[spec.tenant_id]}"})).raise_for_status()
        built = _rss_mb()
        built_seconds = time.perf_counter() - began
        for spec in specs:
            (await client.get("/v1.0/auditLogs/directoryAudits?$top=1", headers={
                "Authorization": f"Bearer {tokens[spec.tenant_id]}"})).raise_for_status()
    return {"tenants": count, "rss_start_mb": round(start), "rss_listed_mb": round(listed),
            "rss_built_mb": round(built), "rss_with_logs_mb": round(_rss_mb()),
            "build_seconds": round(built_seconds, 1),
            "per_tenant_mb": round((built - listed) / count, 2),
            "per_tenant_with_logs_mb": round((_rss_mb() - listed) / count, 2)}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 200))))
