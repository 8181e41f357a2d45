"""Generate a synthetic tenant and write it as a recorded tenant directory."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mailwarden.errors import ConfigError
from mailwarden.files import write_private_text
from mailwarden.gcpause import cyclic_gc_paused
from mailwarden.schemas import PLANTED_SCHEMA
from mailwarden.synth.apps import render_apps
from mailwarden.synth.build import build_tenant
from mailwarden.synth.constants import COLLECTED_AT, MIN_USERS, SIZES
from mailwarden.synth.ids import graph_date
from mailwarden.synth.licensing import DEFAULT_PROFILE
from mailwarden.synth.logs import synthetic_logs, write_logs
from mailwarden.synth.model import Custodian, Tenant
from mailwarden.synth.render_exo import render_exo
from mailwarden.synth.render_graph import render_graph
from mailwarden.synth.render_licences import limitations
from mailwarden.synth.truth import GroundTruth, ground_truth
from mailwarden.tenant.recorded import RecordedTenant, write_recorded_tenant


@dataclass(frozen=True, slots=True, kw_only=True)
class SyntheticTenant:
    """A generated tenant: its recorded files, what is wrong in it, and who answers for
    each ownerless mailbox."""

    size: str | int
    seed: int
    recorded: RecordedTenant
    planted: GroundTruth
    custodians: tuple[Custodian, ...]
    #: The licence profile (synth.licensing): what the tenant's subscriptions provide.
    profile: str = DEFAULT_PROFILE
    #: The generator's own model, from which the labelled logs are drawn when written.
    model: Tenant | None = field(default=None, repr=False, compare=False)

    def planted_document(self) -> dict[str, Any]:
        """planted.json's content."""
        return {
            "schema": PLANTED_SCHEMA,
            "size": self.size,
            "seed": self.seed,
            "users": len(self.recorded.data["graph/users"]),
            "collectedAt": graph_date(COLLECTED_AT),
            **({} if self.profile == DEFAULT_PROFILE else self._licence_document()),
            "planted": [{"check_id": f.check_id, "upn": f.upn, "detail": f.detail,
                         **({"app_id": f.app_id} if f.app_id else {})}
                        for f in self.planted.findings],
            "applications": [dict(app) for app in self.planted.applications],
            "unknown": [{"check_id": f.check_id, "upn": f.upn, "detail": f.detail}
                        for f in self.planted.unknown],
            "clean": list(self.planted.clean),
        }

    def _licence_document(self) -> dict[str, Any]:
        """A profile's licence limitations and the `error` verdicts they cause (the
        default profile has neither, and its planted.json keeps its old keys)."""
        return {
            "profile": self.profile,
            "limitations": dict(sorted(self.recorded.limitations.items())),
            "errors": [{"check_id": f.check_id, "upn": f.upn, "detail": f.detail}
                       for f in self.planted.errors],
        }

    def custodians_csv(self) -> str:
        """custodians.csv's content: mailbox,custodian,team."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(("mailbox", "custodian", "team"))
        for row in sorted(self.custodians, key=lambda r: r.mailbox):
            writer.writerow((row.mailbox, row.custodian, row.team))
        return buffer.getvalue()


def user_count(size: str | int) -> int:
    """The number of users a size stands for: small, medium, large, or a number."""
    if isinstance(size, str) and size.strip().isdigit():
        size = int(size.strip())
    if isinstance(size, bool) or not isinstance(size, int | str):
        raise ConfigError(f"size {size!r}: use small, medium, large or a number of users")
    if isinstance(size, str):
        if size not in SIZES:
            raise ConfigError(
                f"unknown size {size!r}: use small (~200 users), medium (~5,000), "
                f"large (~50,000) or a number of users")
        return SIZES[size]
    if size < MIN_USERS:
        raise ConfigError(f"size {size}: a synthetic tenant needs at least {MIN_USERS} users")
    return size


def _recorded(tenant: Tenant) -> RecordedTenant:
    """The tenant as a collection records it: a licence it lacks is a limitation."""
    data: dict[str, Any] = {
        "tenant": {
            "tenantId": tenant.tenant_id,
            "displayName": tenant.display_name,
            "defaultDomain": tenant.default_domain,
            "verifiedDomains": list(tenant.verified_domains),
            "collectedAt": graph_date(COLLECTED_AT),
        },
    }
    data.update(render_graph(tenant))
    data.update(render_exo(tenant))
    data.update(render_apps(tenant.tenant_id, tenant.apps,
                            {g.id: g.display_name for g in tenant.groups}))
    return RecordedTenant(data=data, limitations=limitations(tenant))


def generate(size: str | int, seed: int = 0, *, profile: str | None = None) -> SyntheticTenant:
    """A tenant of `size` users, the same for the same seed (byte for byte once written),
    licensed as `profile` says (synth.licensing: mixed, the default, business-basic, e3 or
    e5; the same seed gives the same people and mailboxes under every profile)."""
    users = user_count(size)
    label = size.strip() if isinstance(size, str) and size.strip() in SIZES else users
    with cyclic_gc_paused():
        tenant = build_tenant(users, seed, profile)
        return SyntheticTenant(size=label, seed=seed, recorded=_recorded(tenant),
                               planted=ground_truth(tenant), custodians=tenant.custodians,
                               model=tenant, profile=tenant.profile)


_LISTED = ("planted", "unknown", "clean")


def planted_text(document: dict[str, Any]) -> str:
    """planted.json spelled for people: one finding, one clean mailbox per line."""
    lines = ["{"]
    lines += [f" {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)},"
              for key, value in document.items() if key not in _LISTED]
    listed = [key for key in _LISTED if key in document]
    for key in listed:
        items = [f"  {json.dumps(item, ensure_ascii=False)}" for item in document[key]]
        body = "[\n" + ",\n".join(items) + "\n ]" if items else "[]"
        lines.append(f" {json.dumps(key)}: {body}" + ("," if key != listed[-1] else ""))
    return "\n".join(lines) + "\n}\n"


def write_synthetic(tenant: SyntheticTenant, out_dir: Path) -> None:
    """Write the recorded tenant, planted.json, custodians.csv and, from the generator's
    model, logs/ and labels.json; each file 0600."""
    write_recorded_tenant(out_dir, tenant.recorded)
    logs = synthetic_logs(tenant.model, size=tenant.size, seed=tenant.seed) \
        if tenant.model is not None else None
    document = tenant.planted_document()
    if logs is not None:
        # What the logs decide (dormant-delegate) is known once they are drawn.
        document["dormant"] = logs.dormant
    write_private_text(out_dir / "planted.json", planted_text(document))
    write_private_text(out_dir / "custodians.csv", tenant.custodians_csv())
    if logs is not None:
        write_logs(logs, out_dir)
