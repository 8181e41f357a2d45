"""Run history: every run stored through SQLAlchemy (SQLite by default, PostgreSQL for
teams), schema managed by the packaged Alembic migrations, and drift between runs.

    run_id = store_run(run, None)            # default per-user SQLite database
    drift = diff_runs(None)                  # the last two runs of the latest tenant

Each database is opened and migrated once per process (`store.engines`).
"""

from __future__ import annotations

from pathlib import Path

from mailwarden.errors import StoreError
from mailwarden.model.run import Drift, MailboxChange, Run, RunRef
from mailwarden.store.diff import diff
from mailwarden.store.engines import dispose_engines
from mailwarden.store.facts import StoredRun
from mailwarden.store.history import History, facts_of, run_ref
from mailwarden.store.location import ENV_VAR, default_db_path, resolve_db_url


def store_run(run: Run, db_url: str | None = None, *, job_key: str | None = None) -> int:
    """Store `run` in the history database (`db_url`, else MAILWARDEN_DB, else the per-user
    default); returns the new run's id. A fleet job's run (`job_key`) is stored once: the
    job run again gets the id of the run it stored before."""
    with History.open(db_url) as history:
        return history.save(run, job_key=job_key)


def list_runs(db_url: str | None = None, tenant_id: str | None = None) -> tuple[RunRef, ...]:
    """Stored runs, oldest first. Raises NoHistoryError, creating nothing, when there is no
    history database there."""
    with History.open(db_url, create=False) as history:
        return history.runs(tenant_id)


def changes_since_previous(run: Run, db_url: str | None = None) -> Drift | None:
    """Drift from the tenant's latest stored run to `run` (not yet stored); None when the
    tenant has no stored run."""
    with History.open(db_url) as history:
        previous = history.runs(run.tenant.tenant_id)
        if not previous:
            return None
        return diff(history.load(previous[-1].id), facts_of(run, run_ref(run)))


def last_run_mailboxes(
    tenant_id: str, db_url: str | None = None
) -> tuple[RunRef, tuple[MailboxChange, ...]] | None:
    """The tenant's latest stored run and the ownerless mailboxes it assessed; None when it
    has no stored run, or the history is a SQLite file that does not exist (reading does not
    create one)."""
    url = resolve_db_url(db_url)
    database = url.database
    if (url.get_backend_name() == "sqlite" and database and database != ":memory:"
            and not Path(database).exists()):
        return None
    with History(url) as history:
        runs = history.runs(tenant_id)
        if not runs:
            return None
        return runs[-1], tuple(history.load(runs[-1].id).mailboxes.values())


def diff_runs(
    db_url: str | None = None, run_a: int | None = None, run_b: int | None = None
) -> Drift:
    """Drift from `run_a` to `run_b`. Without ids: the last two runs of the tenant of the
    latest run (or of `run_b`'s tenant); with only `run_a`: from it to the tenant's latest.
    Raises NoHistoryError, creating nothing, when there is no history database there."""
    with History.open(db_url, create=False) as history:
        after = history.ref(run_b) if run_b is not None else None
        if run_a is not None:
            before = history.ref(run_a)
            if after is None:
                after = history.runs(before.tenant_id)[-1]
        else:
            tenant = after.tenant_id if after else _latest_tenant(history)
            runs = [r for r in history.runs(tenant) if after is None or r.id != after.id]
            if after is not None:
                runs = [r for r in runs if (r.generated_at, r.id) < (after.generated_at, after.id)]
            if after is None and len(runs) >= 2:
                before, after = runs[-2], runs[-1]
            elif after is not None and runs:
                before = runs[-1]
            else:
                raise StoreError(f"tenant {tenant} has fewer than two stored runs; "
                                 "store another run (mailwarden report) and diff again")
        if before.tenant_id != after.tenant_id:
            raise StoreError(f"runs {before.id} and {after.id} are of different tenants "
                             f"({before.tenant_id}, {after.tenant_id}); diff compares one tenant")
        return diff(history.load(before.id), history.load(after.id))


def _latest_tenant(history: History) -> str:
    runs = history.runs()
    if not runs:
        raise StoreError(f"no runs are stored in {history.url.render_as_string(True)}; "
                         "`mailwarden report` stores one")
    return runs[-1].tenant_id


__all__ = [
    "ENV_VAR",
    "History",
    "StoredRun",
    "changes_since_previous",
    "default_db_path",
    "diff",
    "diff_runs",
    "dispose_engines",
    "last_run_mailboxes",
    "list_runs",
    "resolve_db_url",
    "store_run",
]
