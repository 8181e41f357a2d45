"""The remediation journal: what each run planned, the state before each change, and
what became of it. A rollback reads it back.

`Journal` is the interface; `FileJournal` keeps one directory per run:

    <journal dir>/<run id>/run.json                the run: tenant, time, who, how it
                                                   connected, its actions
    <journal dir>/<run id>/actions/<action>.json   one action's latest entry

Each file is replaced atomically (written beside, flushed, renamed), so a crash leaves
either the old entry or the new one, never half of one; one file per action keeps every
write small however large the run. Files are 0600 and directories 0700: prior states
hold addresses and names. The command line keeps its journal in the history database
(`journal_db.DatabaseJournal`) unless `--journal-dir` or MAILWARDEN_JOURNAL_DIR names a
directory; `default_journal_dir()` is the per-user directory for library callers.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

import platformdirs

from mailwarden.files import make_private_dirs, write_private_atomic
from mailwarden.remediate.errors import JournalError
from mailwarden.remediate.model import Action

JOURNAL_ENV = "MAILWARDEN_JOURNAL_DIR"
RUN_SCHEMA = "mailwarden.remediation-run/1"
_RUN_ID = re.compile(r"^[A-Za-z0-9_.-]{1,80}$")


class EntryStatus(StrEnum):
    PRIOR_RECORDED = "prior-recorded"  # state read and kept; the change is being made
    APPLIED = "applied"
    ALREADY_DONE = "already-done"  # the state was already as wanted: nothing written
    FAILED = "failed"
    ROLLED_BACK = "rolled-back"
    ROLLBACK_FAILED = "rollback-failed"


@dataclass(frozen=True, slots=True, kw_only=True)
class JournalEntry:
    action_id: str
    status: EntryStatus
    at: datetime
    prior: Mapping[str, Any] | None = None  # the state before the change, as read
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "action_id": self.action_id,
            "status": self.status.value,
            "at": self.at.isoformat(),
            "prior": dict(self.prior) if self.prior is not None else None,
            "error": self.error,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> JournalEntry:
        prior = data.get("prior")
        return cls(
            action_id=str(data["action_id"]),
            status=EntryStatus(data["status"]),
            at=datetime.fromisoformat(str(data["at"])),
            prior=dict(prior) if isinstance(prior, Mapping) else None,
            error=data.get("error"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class RunContext:
    """Who made a run and how it reached the tenant, so that a rollback can reach the same
    tenant again without the connection options. No credential is kept: a rollback signs
    in again with the secret, certificate or device code of whoever runs it."""

    by: str | None = None  # who applied it (--by, else the operating-system user)
    tenant_name: str | None = None
    # Settings names -> values: tenant, client_id, cloud, login_url, graph_url, exo_url,
    # ca_bundle; only those that were set.
    connection: Mapping[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"by": self.by, "tenant_name": self.tenant_name,
                "connection": dict(self.connection)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> RunContext:
        data = data or {}
        connection = data.get("connection")
        return cls(
            by=data.get("by"),
            tenant_name=data.get("tenant_name"),
            connection={str(k): str(v) for k, v in connection.items() if v is not None}
            if isinstance(connection, Mapping) else {},
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class RunRecord:
    run_id: str
    tenant_id: str
    started_at: datetime
    actions: tuple[Action, ...]
    entries: Mapping[str, JournalEntry]  # action id -> its latest entry
    context: RunContext = field(default_factory=RunContext)  # empty for runs before it


class Journal(Protocol):
    def begin(
        self, run_id: str, *, tenant_id: str, started_at: datetime, actions: Sequence[Action],
        context: RunContext | None = None,
    ) -> None: ...

    def record(self, run_id: str, entry: JournalEntry) -> None: ...

    def load(self, run_id: str) -> RunRecord: ...

    def run_ids(self) -> tuple[str, ...]: ...


def default_journal_dir(env: Mapping[str, str] | None = None) -> Path:
    environ = os.environ if env is None else env
    configured = environ.get(JOURNAL_ENV)
    if configured:
        return Path(configured)
    return Path(platformdirs.user_state_dir("mailwarden")) / "remediation"


def write_atomic(path: Path, text: str) -> None:
    """Replace `path` with `text` in one step, 0600."""
    write_private_atomic(path, text)


class FileJournal:
    """A `Journal` in a directory of JSON files (see the module docstring)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _run_dir(self, run_id: str) -> Path:
        if not _RUN_ID.match(run_id):
            raise JournalError(f"{run_id!r} is not a remediation run id")
        return self.directory / run_id

    def begin(
        self, run_id: str, *, tenant_id: str, started_at: datetime, actions: Sequence[Action],
        context: RunContext | None = None,
    ) -> None:
        run_dir = self._run_dir(run_id)
        try:
            make_private_dirs(self.directory)
            run_dir.mkdir(mode=0o700)
            (run_dir / "actions").mkdir(mode=0o700)
        except FileExistsError as exc:
            raise JournalError(f"{run_dir}: a run with this id is already journalled") from exc
        except OSError as exc:
            raise JournalError(f"{run_dir}: cannot create the journal ({exc})") from exc
        document = {
            "schema": RUN_SCHEMA,
            "run_id": run_id,
            "tenant_id": tenant_id,
            "started_at": started_at.isoformat(),
            "context": (context or RunContext()).as_dict(),
            "actions": [a.as_dict() for a in actions],
        }
        write_atomic(run_dir / "run.json", json.dumps(document, ensure_ascii=False, indent=1))

    def record(self, run_id: str, entry: JournalEntry) -> None:
        path = self._run_dir(run_id) / "actions" / f"{entry.action_id}.json"
        try:
            write_atomic(path, json.dumps(entry.as_dict(), ensure_ascii=False))
        except OSError as exc:
            raise JournalError(f"{path}: cannot write the journal entry ({exc})") from exc

    def load(self, run_id: str) -> RunRecord:
        run_dir = self._run_dir(run_id)
        document = _read(run_dir / "run.json", run_id, self.directory)
        if document.get("schema") != RUN_SCHEMA:
            raise JournalError(f"{run_dir / 'run.json'}: not a {RUN_SCHEMA} document")
        entries = {}
        for path in sorted((run_dir / "actions").glob("*.json")):
            entry = JournalEntry.from_dict(_read(path, run_id, self.directory))
            entries[entry.action_id] = entry
        return RunRecord(
            run_id=run_id,
            tenant_id=str(document["tenant_id"]),
            started_at=datetime.fromisoformat(str(document["started_at"])),
            actions=tuple(Action.from_dict(a) for a in document.get("actions") or ()),
            entries=entries,
            context=RunContext.from_dict(document.get("context")),
        )

    def run_ids(self) -> tuple[str, ...]:
        if not self.directory.is_dir():
            return ()
        return tuple(
            sorted(p.name for p in self.directory.iterdir() if (p / "run.json").is_file())
        )


def _read(path: Path, run_id: str, directory: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise JournalError(
            f"no remediation run {run_id} in {directory}; give the run id `remediate apply` "
            "printed, and the same --journal-dir"
        ) from exc
    except (OSError, ValueError) as exc:
        raise JournalError(f"{path}: cannot read the journal ({exc})") from exc
    if not isinstance(data, dict):
        raise JournalError(f"{path}: not a journal document")
    return data
