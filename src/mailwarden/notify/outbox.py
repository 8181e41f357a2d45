"""The outbox: what is to be sent, what was sent, and what each notice key last said.

Every delivery is recorded as "stored" before any is sent, and marked "sent" right after
its channel accepts it. A crash between the two leaves it "stored", so the next run sends
exactly the unsent ones. The one window this cannot close is a crash after a channel
accepted a message but before it was marked: that message is sent again on restart
(at-least-once); no channel here offers a way to ask whether it already has it.

`FileOutbox` keeps a snapshot in one JSON file, created 0600 and replaced atomically (a
temp file in the same directory, fsynced, then renamed), so a crash leaves the old or the
new file, never half of one; `store` writes it. A mark (sent or failed) appends one fsynced
JSON line to a 0600 journal beside it (`<file>.journal`), so it costs the same however
many deliveries are held (rewriting the snapshot per mark made sending quadratic). Loading
replays the journal over the snapshot; a last line cut short was never fsynced, so no mark
returned on it, and it is ignored (and counted). The next `store` folds the journal into a
new snapshot, as does a mark that leaves nothing pending or makes the journal as long as
the snapshot (O(1) amortised). Each snapshot names its journal by a random token, so a
journal of an older snapshot (a crash between the two, or a snapshot moved away) is never
applied twice. The history database can back the same `Outbox` protocol later.

Deliveries can also be held (`store(hold=...)`): kept, not sent, until a later `store`
releases them (`release=...`), in the same atomic write that stores the digest made of
them, so a crash leaves them either held or digested, never both and never neither. The
watcher holds a day's non-critical notices this way for `--digest-hour`; the snapshot also
keeps the day of the last such digest (`digest_day`).

One process at a time may use a state folder: a `FileOutbox` holds its folder
(`mailwarden.statelock`) from opening until `close()` (or until it is garbage), and a second
process opening an outbox there gets `StateInUseError` instead of a corrupted journal.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import weakref
from collections.abc import Collection, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from mailwarden.errors import InputError
from mailwarden.files import append_private_lines, fsync_directory, write_private_atomic
from mailwarden.notify.dedup import SentState
from mailwarden.notify.notice import Notice, notice_from_dict
from mailwarden.notify.render_text import Recipients
from mailwarden.schemas import OUTBOX_JOURNAL_SCHEMA, OUTBOX_SCHEMA
from mailwarden.statelock import hold_folder
from mailwarden.times import as_utc, iso, parse_time, read_time

#: Sent deliveries are kept (without their message) this long, for the record.
KEEP_SENT = timedelta(days=90)
#: The journal is folded into the snapshot once it holds this many marks, or as many as
#: the snapshot has deliveries if that is more: each fold (one snapshot write) is paid for
#: by at least as many cheap marks.
FOLD_AT_LEAST = 256


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    """One notice to one channel, with the people it goes to."""

    id: str
    notice: Notice
    channel: str
    recipients: Recipients
    attempts: int = 0
    last_error: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Replay:
    """What loading found in the journal."""

    applied: int = 0  # marks replayed over the snapshot
    torn: int = 0  # a last line cut short by a crash mid-append (ignored)
    stale: bool = False  # a journal of an older snapshot, already folded in (ignored)


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


def _journal_records(raw: bytes, where: Path) -> tuple[list[Any], int, bool]:
    """The journal's whole lines, the bytes they span, and whether the last line was torn.

    Each mark is fsynced before the next is written, so only the last line can be damaged
    by a crash: cut short, or (when the file's new size reached the disk before its data)
    padded. Damage anywhere else was not done by a crash and is refused."""
    *lines, tail = raw.split(b"\n")
    records: list[Any] = []
    length = 0
    for number, line in enumerate(lines, 1):
        try:
            records.append(json.loads(line))
        except ValueError:  # also a UnicodeDecodeError
            if number == len(lines) and not tail:
                return records, length, True
            raise InputError(f"{where}:{number}: the notification journal is damaged (move "
                             "it away to keep the last snapshot: the deliveries it marked "
                             "are then sent again)") from None
        length += len(line) + 1
    return records, length, bool(tail)


def _sent_at(entry: Mapping[str, Any]) -> datetime:
    """When a sent delivery was sent; one without a readable time counts as long ago."""
    return parse_time(entry.get("sent_at")) or datetime.min.replace(tzinfo=UTC)


def _sent_entry(entry: Mapping[str, Any], at: str) -> dict[str, Any]:
    # The message itself is dropped once sent: the state file should not grow into an
    # archive of personal data.
    return {"status": "sent", "stored_at": entry["stored_at"], "sent_at": at,
            "channel": entry["channel"], "key": entry["key"],
            "attempts": int(entry.get("attempts", 0)) + 1}


class FileOutbox:
    """An `Outbox` in a JSON snapshot and an append-only journal of marks beside it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.journal_path = path.with_name(f"{path.name}.journal")
        hold = hold_folder(path.parent, hint="keep this state file in another folder")
        self._release = weakref.finalize(self, hold.release)
        try:
            self._data = self._load()
            self._latest_sent: datetime | None = None  # what pruning measures age against
            self._journal_length: int | None = None  # bytes of this snapshot's journal, if any
            self._journal_torn = False
            self._marks = 0
            self._pending = sum(1 for d in self._data["deliveries"].values()
                                if d["status"] == "stored")
            self.replay = self._replay()
        except BaseException:
            self.close()
            raise

    def __repr__(self) -> str:
        return f"FileOutbox({str(self.path)!r})"

    def close(self) -> None:
        """Let go of the state folder (see the module docstring); closing twice is fine."""
        self._release()

    def __enter__(self) -> FileOutbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _load(self) -> dict[str, Any]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {"schema": OUTBOX_SCHEMA, "sent": {}, "deliveries": {}, "failing": None}
        except OSError as exc:
            raise InputError(f"{self.path}: cannot read the notification state "
                             f"({exc.strerror})") from exc
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"{self.path}:{exc.lineno}: the notification state is not JSON "
                             "(restore it from a backup, or move it away to start afresh, "
                             "which re-sends open alerts)") from exc
        if not isinstance(data, dict) or data.get("schema") != OUTBOX_SCHEMA:
            raise InputError(f"{self.path}: not a mailwarden notification state file "
                             f"(expected schema {OUTBOX_SCHEMA})")
        return data

    def _replay(self) -> Replay:
        try:
            raw = self.journal_path.read_bytes()
        except FileNotFoundError:
            return Replay()
        except OSError as exc:
            raise InputError(f"{self.journal_path}: cannot read the notification journal "
                             f"({exc.strerror})") from exc
        records, length, torn = _journal_records(raw, self.journal_path)
        if not records:
            return Replay(torn=int(torn))
        header = records[0]
        if not isinstance(header, dict) or header.get("journal") != OUTBOX_JOURNAL_SCHEMA:
            raise InputError(f"{self.journal_path}: not a mailwarden notification journal "
                             f"(expected {OUTBOX_JOURNAL_SCHEMA}); move it away")
        token = header.get("snapshot")
        if token is None or token != self._data.get("journal"):
            return Replay(torn=int(torn), stale=True)
        for number, record in enumerate(records[1:], 2):
            self._replay_one(record, number)
        self._journal_length, self._journal_torn = length, torn
        self._marks = len(records) - 1
        self._prune()
        return Replay(applied=self._marks, torn=int(torn))

    def _replay_one(self, record: Any, number: int) -> None:
        try:
            entry = self._data["deliveries"][record["id"]]
            if record["op"] == "sent":
                self._apply_sent(record["id"], entry, read_time(record["at"]))
            elif record["op"] == "failed":
                self._apply_failed(entry, str(record["reason"]))
            else:
                raise ValueError(record["op"])
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{self.journal_path}:{number}: a mark the notification state "
                             "cannot take (move the journal away to keep the last snapshot: "
                             "the deliveries it marked are then sent again)") from exc

    def _save(self) -> None:
        """Write a new snapshot that holds every mark, then drop the journal it replaces."""
        self._prune()
        self._data["journal"] = secrets.token_hex(8)
        write_private_atomic(self.path, json.dumps(self._data, ensure_ascii=False, default=str))
        # The new token already disowns the old journal: removing it is only tidiness.
        with suppress(FileNotFoundError):
            self.journal_path.unlink()
        self._journal_length, self._journal_torn, self._marks = None, False, 0

    def _append(self, record: Mapping[str, Any]) -> None:
        """Add one mark to the journal and make it durable before returning."""
        if self._data.get("journal") is None:  # a snapshot from before journals: name one
            self._save()
        lines = [json.dumps(record, ensure_ascii=False) + "\n"]
        fresh = self._journal_length is None
        if fresh:  # the first mark since this snapshot: a new journal naming it
            header = {"journal": OUTBOX_JOURNAL_SCHEMA, "snapshot": self._data.get("journal")}
            lines.insert(0, json.dumps(header) + "\n")
        cut_to = None
        if fresh:
            cut_to = 0  # a journal of an older snapshot, if any, is written over
        elif self._journal_torn:
            cut_to = self._journal_length  # write over the line a crash cut short
        self._journal_length = append_private_lines(self.journal_path, lines, cut_to=cut_to)
        self._journal_torn = False
        if fresh:
            fsync_directory(self.journal_path.parent)
        self._marks += 1

    def remembered(self) -> Mapping[str, SentState]:
        return {key: SentState(key=key, severity=v["severity"], marks=tuple(v["marks"]))
                for key, v in self._data["sent"].items()}

    def store(self, deliveries: Sequence[Delivery], remember: Sequence[SentState], *,
              failing_findings: Collection[str] | None = None,
              hold: Sequence[Delivery] = (), release: Collection[str] = (),
              digest_day: str | None = None) -> None:
        """Record deliveries as stored, what their keys said and (when given) the findings
        failing now, deliveries held and released, and the day of the last digest, in one
        atomic write (which also folds in the journal)."""
        now = iso(datetime.now(UTC))
        held = self._data.setdefault("held", {})
        for ident in release:
            held.pop(ident, None)
        for delivery in hold:
            held.setdefault(delivery.id, _delivery_dict(delivery, now))
        if digest_day is not None:
            self._data["digest_day"] = digest_day
        for delivery in deliveries:
            if delivery.id not in self._data["deliveries"]:
                self._data["deliveries"][delivery.id] = _delivery_dict(delivery, now)
                self._pending += 1
        for state in remember:
            self._data["sent"][state.key] = {"severity": state.severity,
                                             "marks": list(state.marks), "at": now}
        if failing_findings is not None:
            self._data["failing"] = sorted(failing_findings)
        self._save()

    def held(self) -> tuple[Delivery, ...]:
        """Deliveries held for a later digest, in the order they were held."""
        return tuple(_delivery_of(ident, data)
                     for ident, data in self._data.get("held", {}).items())

    def digest_day(self) -> str | None:
        """The UTC day (YYYY-MM-DD) of the last digest sent at `--digest-hour`."""
        day = self._data.get("digest_day")
        return str(day) if day else None

    def pending(self) -> tuple[Delivery, ...]:
        return tuple(_delivery_of(ident, data)
                     for ident, data in self._data["deliveries"].items()
                     if data["status"] == "stored")

    def mark_sent(self, delivery: Delivery, at: datetime) -> None:
        entry = self._data["deliveries"][delivery.id]
        self._append({"op": "sent", "id": delivery.id, "at": iso(at)})
        self._apply_sent(delivery.id, entry, at)
        self._fold_if_due()

    def mark_failed(self, delivery: Delivery, reason: str) -> None:
        entry = self._data["deliveries"][delivery.id]
        self._append({"op": "failed", "id": delivery.id, "reason": reason})
        self._apply_failed(entry, reason)
        self._fold_if_due()

    def sent_count(self) -> int:
        return sum(1 for d in self._data["deliveries"].values() if d["status"] == "sent")

    def failing_findings(self) -> frozenset[str] | None:
        failing = self._data.get("failing")
        return None if failing is None else frozenset(failing)

    def _apply_sent(self, ident: str, entry: Mapping[str, Any], at: datetime) -> None:
        if entry["status"] == "stored":
            self._pending -= 1
        self._data["deliveries"][ident] = _sent_entry(entry, iso(at))
        if self._latest_sent is None or at > self._latest_sent:
            self._latest_sent = at

    @staticmethod
    def _apply_failed(entry: dict[str, Any], reason: str) -> None:
        entry["attempts"] = int(entry.get("attempts", 0)) + 1
        entry["last_error"] = reason

    def _fold_if_due(self) -> None:
        # With nothing pending the snapshot alone tells the whole story (for anyone reading
        # the file); a long journal is folded so that replay stays short.
        if self._pending <= 0 or self._marks >= max(FOLD_AT_LEAST,
                                                    len(self._data["deliveries"])):
            self._save()

    def _prune(self) -> None:
        if self._latest_sent is None:
            return
        cutoff = as_utc(self._latest_sent) - KEEP_SENT
        self._data["deliveries"] = {
            ident: d for ident, d in self._data["deliveries"].items()
            if d["status"] != "sent" or _sent_at(d) >= cutoff}
