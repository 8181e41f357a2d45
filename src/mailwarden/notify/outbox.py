"""The outbox: what is to be sent, what was sent, and what each notice key last said.

Every delivery is recorded as "stored" before any is sent, and marked "sent" right after
its channel accepts it. A crash between the two leaves it "stored", so the next run sends
exactly the unsent ones. The one window this cannot close is a crash after a channel
accepted a message but before it was marked: that message is sent again on restart
(at-least-once); no channel here offers a way to ask whether it already has it.

`FileOutbox` keeps it all in one JSON file, created 0600 and replaced atomically (a temp
file in the same directory, fsynced, then renamed), so a crash leaves the old or the new
file, never half of one. One process at a time may use a file. The history database can
back the same `Outbox` protocol later.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from mailwarden.errors import InputError
from mailwarden.files import write_private_atomic
from mailwarden.notify.dedup import SentState
from mailwarden.notify.notice import Notice, notice_from_dict
from mailwarden.notify.render_text import Recipients

SCHEMA = "mailwarden.outbox/1"
#: Sent deliveries are kept (without their message) this long, for the record.
KEEP_SENT = timedelta(days=90)


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    """One notice to one channel, with the people it goes to."""

    id: str
    notice: Notice
    channel: str
    recipients: Recipients
    attempts: int = 0
    last_error: str | None = None


def delivery_id(notice: Notice, channel: str) -> str:
    """Stable for the same notice, level and channel: storing twice stores once."""
    material = "\x1f".join((notice.key, notice.severity, ",".join(notice.marks),
                            str(notice.escalation), channel))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:24]


class Outbox(Protocol):
    def remembered(self) -> Mapping[str, SentState]: ...
    def store(self, deliveries: Sequence[Delivery], remember: Sequence[SentState], *,
              failing_findings: Collection[str] | None = None) -> None: ...
    def pending(self) -> tuple[Delivery, ...]: ...
    def mark_sent(self, delivery: Delivery, at: datetime) -> None: ...
    def mark_failed(self, delivery: Delivery, reason: str) -> None: ...
    def failing_findings(self) -> frozenset[str] | None: ...


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _delivery_dict(delivery: Delivery, stored_at: str) -> dict[str, Any]:
    r = delivery.recipients
    return {"status": "stored", "stored_at": stored_at, "channel": delivery.channel,
            "key": delivery.notice.key, "notice": delivery.notice.as_dict(),
            "recipients": {"to": list(r.to), "cc": list(r.cc), "note": r.note},
            "attempts": delivery.attempts, "last_error": delivery.last_error}


def _delivery_of(ident: str, data: Mapping[str, Any]) -> Delivery:
    r = data["recipients"]
    return Delivery(id=ident, notice=notice_from_dict(data["notice"]), channel=data["channel"],
                    recipients=Recipients(to=tuple(r["to"]), cc=tuple(r["cc"]), note=r["note"]),
                    attempts=int(data.get("attempts", 0)), last_error=data.get("last_error"))


class FileOutbox:
    """An `Outbox` in one JSON file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._data = self._load()

    def __repr__(self) -> str:
        return f"FileOutbox({str(self.path)!r})"

    def _load(self) -> dict[str, Any]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {"schema": SCHEMA, "sent": {}, "deliveries": {}, "failing": None}
        except OSError as exc:
            raise InputError(f"{self.path}: cannot read the notification state "
                             f"({exc.strerror})") from exc
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"{self.path}:{exc.lineno}: the notification state is not JSON "
                             "(restore it from a backup, or move it away to start afresh, "
                             "which re-sends open alerts)") from exc
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            raise InputError(f"{self.path}: not a mailwarden notification state file "
                             f"(expected schema {SCHEMA})")
        return data

    def _save(self) -> None:
        write_private_atomic(self.path, json.dumps(self._data, ensure_ascii=False, default=str))

    def remembered(self) -> Mapping[str, SentState]:
        return {key: SentState(key=key, severity=v["severity"], marks=tuple(v["marks"]))
                for key, v in self._data["sent"].items()}

    def store(self, deliveries: Sequence[Delivery], remember: Sequence[SentState], *,
              failing_findings: Collection[str] | None = None) -> None:
        """Record deliveries as stored, what their keys said and (when given) the findings
        failing now, in one atomic write."""
        now = _iso(datetime.now(UTC))
        for delivery in deliveries:
            if delivery.id not in self._data["deliveries"]:
                self._data["deliveries"][delivery.id] = _delivery_dict(delivery, now)
        for state in remember:
            self._data["sent"][state.key] = {"severity": state.severity,
                                             "marks": list(state.marks), "at": now}
        if failing_findings is not None:
            self._data["failing"] = sorted(failing_findings)
        self._save()

    def pending(self) -> tuple[Delivery, ...]:
        return tuple(_delivery_of(ident, data)
                     for ident, data in self._data["deliveries"].items()
                     if data["status"] == "stored")

    def mark_sent(self, delivery: Delivery, at: datetime) -> None:
        entry = self._data["deliveries"][delivery.id]
        # The message itself is dropped once sent: the state file should not grow into an
        # archive of personal data.
        self._data["deliveries"][delivery.id] = {
            "status": "sent", "stored_at": entry["stored_at"], "sent_at": _iso(at),
            "channel": entry["channel"], "key": entry["key"],
            "attempts": int(entry.get("attempts", 0)) + 1}
        self._prune(at)
        self._save()

    def mark_failed(self, delivery: Delivery, reason: str) -> None:
        entry = self._data["deliveries"][delivery.id]
        entry["attempts"] = int(entry.get("attempts", 0)) + 1
        entry["last_error"] = reason
        self._save()

    def sent_count(self) -> int:
        return sum(1 for d in self._data["deliveries"].values() if d["status"] == "sent")

    def failing_findings(self) -> frozenset[str] | None:
        failing = self._data.get("failing")
        return None if failing is None else frozenset(failing)

    def _prune(self, now: datetime) -> None:
        cutoff = _iso(now - KEEP_SENT)
        self._data["deliveries"] = {
            ident: d for ident, d in self._data["deliveries"].items()
            if d["status"] != "sent" or d.get("sent_at", "") >= cutoff}

