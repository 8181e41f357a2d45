"""The fleet's tenants in the history database (table `fleet_tenants`, migration 0006), on
SQLite or PostgreSQL.

    with FleetStore.open(db) as store:
        store.add(tenant)                  # InputError if it is there (unless replace)
        store.tenants()                    # by tenant id
        store.remove(tenant_id)            # its jobs go with it; refused while one runs
        store.jobs                         # the runs and jobs (`store.fleet_jobs`)

A credential is kept by reference only: the app's client id and a certificate's path, or
the name of the environment variable holding the client secret. No secret is ever
stored; a worker reads the certificate or the variable when it signs in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select, update

from mailwarden.errors import InputError
from mailwarden.model.fleet import Credential, FleetTenant, JobState, Schedule
from mailwarden.store import tables
from mailwarden.store.fleet_jobs import FleetJobs
from mailwarden.store.history import History
from mailwarden.times import as_utc

_TENANTS = tables.fleet_tenants


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


def _text(value: Path | None) -> str | None:
    return str(value) if value is not None else None


def _row(tenant: FleetTenant, at: datetime) -> dict[str, Any]:
    credential = tenant.credential
    return {
        "tenant_id": tenant.tenant_id, "display_name": tenant.display_name,
        "client_id": credential.client_id,
        "certificate_path": _text(credential.certificate_path),
        "secret_env": credential.secret_env, "multi_tenant_app": credential.multi_tenant,
        "posture_every_seconds": int(tenant.schedule.posture_every.total_seconds()),
        "logs_every_seconds": int(tenant.schedule.logs_every.total_seconds()),
        "routing_path": _text(tenant.routing_path),
        "custodians_path": _text(tenant.custodians_path),
        "enabled": tenant.enabled, "created_at": tenant.created_at or at, "updated_at": at,
    }


def _tenant(row: Mapping[Any, Any]) -> FleetTenant:
    return FleetTenant(
        tenant_id=row["tenant_id"], display_name=row["display_name"],
        credential=Credential(client_id=row["client_id"],
                              certificate_path=_path(row["certificate_path"]),
                              secret_env=row["secret_env"],
                              multi_tenant=bool(row["multi_tenant_app"])),
        schedule=Schedule(posture_every=timedelta(seconds=row["posture_every_seconds"]),
                          logs_every=timedelta(seconds=row["logs_every_seconds"])),
        routing_path=_path(row["routing_path"]), custodians_path=_path(row["custodians_path"]),
        enabled=bool(row["enabled"]), created_at=as_utc(row["created_at"]),
        updated_at=as_utc(row["updated_at"]))


class FleetStore:
    """The fleet of one history database (a path or URL; None: MAILWARDEN_DB, else the
    per-user default). Close it when done, or use it as a context manager."""

    def __init__(self, history: History) -> None:
        self.history = history
        self.jobs = FleetJobs(history)

    @classmethod
    def open(cls, db: str | None = None, *, create: bool = True) -> FleetStore:
        """Without `create`, a database that is not there raises NoHistoryError and
        nothing is created."""
        return cls(History.open(db, create=create))

    def close(self) -> None:
        self.history.close()

    def __enter__(self) -> FleetStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def tenants(self) -> tuple[FleetTenant, ...]:
        """Every tenant of the fleet, by tenant id."""
        query = select(_TENANTS).order_by(_TENANTS.c.tenant_id)
        with self.history._connection("read the fleet") as connection:
            return tuple(_tenant(row) for row in connection.execute(query).mappings())

    def tenant(self, tenant_id: str) -> FleetTenant:
        """One tenant; InputError when the fleet has no such tenant."""
        query = select(_TENANTS).where(_TENANTS.c.tenant_id == tenant_id.lower())
        with self.history._connection("read the fleet") as connection:
            row = connection.execute(query).mappings().first()
        if row is None:
            raise _unknown(tenant_id)
        return _tenant(row)

    def add(self, tenant: FleetTenant, *, at: datetime,
            replace_existing: bool = False) -> FleetTenant:
        """Add a tenant, or with `replace_existing` change one (keeping when it was added
        and its jobs). A tenant already there is otherwise an InputError."""
        with self.history._connection("store the tenant", write=True) as connection:
            found = connection.execute(
                select(_TENANTS.c.created_at)
                .where(_TENANTS.c.tenant_id == tenant.tenant_id)).scalar()
            if found is not None and not replace_existing:
                raise InputError(f"tenant {tenant.tenant_id} is already in the fleet; "
                                 "`mailwarden fleet add --replace` changes it")
            if found is None:
                row = _row(replace(tenant, created_at=at), at)
                connection.execute(insert(_TENANTS).values(**row))
            else:
                row = _row(replace(tenant, created_at=as_utc(found)), at)
                connection.execute(update(_TENANTS)
                                   .where(_TENANTS.c.tenant_id == tenant.tenant_id)
                                   .values(**row))
        return _tenant(row)

    def remove(self, tenant_id: str) -> FleetTenant:
        """Take a tenant out of the fleet, with its jobs. Refused (InputError) when it is
        not there or while one of its jobs runs."""
        wanted = tenant_id.lower()
        with self.history._connection("remove the tenant", write=True) as connection:
            row = connection.execute(
                select(_TENANTS).where(_TENANTS.c.tenant_id == wanted)).mappings().first()
            if row is None:
                raise _unknown(tenant_id)
            jobs = tables.fleet_jobs
            running = connection.execute(
                select(jobs.c.job_id).where(jobs.c.tenant_id == wanted,
                                            jobs.c.state == JobState.RUNNING.value)).first()
            if running is not None:
                raise InputError(f"a job of tenant {wanted} is running ({running[0]}); "
                                 "remove the tenant when it has finished")
            # Deleted here, not left to ON DELETE CASCADE: SQLite enforces foreign keys
            # only when each connection asks it to.
            connection.execute(delete(jobs).where(jobs.c.tenant_id == wanted))
            connection.execute(delete(_TENANTS).where(_TENANTS.c.tenant_id == wanted))
        return _tenant(row)


def _unknown(tenant_id: str) -> InputError:
    return InputError(f"tenant {tenant_id} is not in the fleet; `mailwarden fleet list` "
                      "shows its tenants")
