"""What `mailwarden fleet list` and `fleet status` print: tables for people, JSON for scripts.
Pure functions of the fleet's records; no secret is in them (only references to secrets)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from rich.table import Table
from rich.text import Text

from mailwarden.model.fleet import (
    FleetJob,
    FleetTenant,
    Freshness,
    KindStatus,
    TenantStatus,
    interval_text,
)
from mailwarden.schemas import FLEET_STATUS_SCHEMA
from mailwarden.text import plural

_FRESHNESS_STYLE = {Freshness.FRESH: "green", Freshness.STALE: "yellow",
                    Freshness.NEVER: "", Freshness.PAUSED: "dim"}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _path(value: object) -> str | None:
    return str(value) if value is not None else None


def tenant_dict(tenant: FleetTenant) -> dict[str, Any]:
    credential = tenant.credential
    return {
        "tenant_id": tenant.tenant_id, "display_name": tenant.display_name,
        "credential": {"client_id": credential.client_id,
                       "certificate_path": _path(credential.certificate_path),
                       "secret_env": credential.secret_env,
                       "multi_tenant_app": credential.multi_tenant},
        "posture_every": interval_text(tenant.schedule.posture_every),
        "logs_every": interval_text(tenant.schedule.logs_every),
        "routing_path": _path(tenant.routing_path),
        "custodians_path": _path(tenant.custodians_path),
        "enabled": tenant.enabled, "created_at": _iso(tenant.created_at),
        "updated_at": _iso(tenant.updated_at),
    }


def tenants_table(tenants: Sequence[FleetTenant]) -> Table:
    table = Table(title=f"{plural(len(tenants), 'tenant')} in the fleet", title_justify="left")
    for column in ("tenant", "name", "credential", "posture", "logs", "routing",
                   "custodians", "enabled"):
        table.add_column(column)
    for tenant in tenants:
        table.add_row(Text(tenant.tenant_id), Text(tenant.display_name or ""),
                      Text(tenant.credential.described),
                      f"every {interval_text(tenant.schedule.posture_every)}",
                      f"every {interval_text(tenant.schedule.logs_every)}",
                      Text(_path(tenant.routing_path) or ""),
                      Text(_path(tenant.custodians_path) or ""),
                      "yes" if tenant.enabled else "no")
    return table


def _ago(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "never"
    seconds = max(0, int((now - moment).total_seconds()))
    return f"{interval_text(timedelta(seconds=seconds)) if seconds >= 60 else '<1m'} ago"


def _when(moment: datetime | None, now: datetime) -> str:
    """A coming moment: "in 5m", or "now" once it has passed."""
    if moment is None or moment <= now:
        return "now"
    seconds = int((moment - now).total_seconds())
    return f"in {interval_text(timedelta(seconds=seconds)) if seconds >= 60 else '<1m'}"


def _job_dict(job: FleetJob | None) -> dict[str, Any] | None:
    if job is None:
        return None
    return {"job_id": job.job_id, "run_id": job.run_id, "due_at": _iso(job.due_at),
            "state": job.state.value, "attempts": job.attempts, "worker_id": job.worker_id,
            "started_at": _iso(job.started_at), "heartbeat_at": _iso(job.heartbeat_at),
            "finished_at": _iso(job.finished_at), "error": job.error,
            "retry_at": _iso(job.retry_at), "history_run_id": job.history_run_id}


def _kind_dict(kind: KindStatus) -> dict[str, Any]:
    return {"every": interval_text(kind.every), "freshness": kind.freshness.value,
            "last_success": _iso(kind.last_success), "running": _job_dict(kind.running),
            "failing": _job_dict(kind.last_failure), "waiting": _job_dict(kind.waiting)}


def status_document(statuses: Sequence[TenantStatus], now: datetime) -> dict[str, Any]:
    return {"schema": FLEET_STATUS_SCHEMA, "generated_at": now.isoformat(), "tenants": [
        {"tenant_id": s.tenant.tenant_id, "display_name": s.tenant.display_name,
         "enabled": s.tenant.enabled,
         **{k.kind.value: _kind_dict(k) for k in s.kinds}} for s in statuses]}


def _kind_cell(kind: KindStatus, now: datetime) -> Text:
    label = "never succeeded" if kind.freshness is Freshness.NEVER else kind.freshness.value
    text = Text(label, style=_FRESHNESS_STYLE[kind.freshness])
    if kind.last_success is not None:
        text.append(f", last success {_ago(kind.last_success, now)}")
    text.append(f" (every {interval_text(kind.every)})")
    if kind.running is not None:
        text.append(f"; running on {kind.running.worker_id or '?'} since "
                    f"{_ago(kind.running.started_at, now)}, heartbeat "
                    f"{_ago(kind.running.heartbeat_at, now)}")
    if kind.waiting is not None:
        text.append(f"; put back, runs again {_when(kind.waiting.retry_at, now)}: "
                    f"{kind.waiting.error or 'no reason recorded'}", style="yellow")
    if kind.last_failure is not None:
        text.append(f"; failing: {kind.last_failure.error or 'no reason recorded'}",
                    style="red")
    return text


def status_table(statuses: Sequence[TenantStatus], now: datetime) -> Table:
    table = Table(title=f"{plural(len(statuses), 'tenant')} in the fleet", title_justify="left")
    for column in ("tenant", "name", "posture", "logs"):
        table.add_column(column)
    for status in statuses:
        posture, logs = status.kinds
        table.add_row(Text(status.tenant.tenant_id), Text(status.tenant.display_name or ""),
                      _kind_cell(posture, now), _kind_cell(logs, now))
    return table
