"""The outbox journal: marks survive a crash, a torn last line is ignored, folds compact."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mailwarden.errors import InputError
from mailwarden.notify import Delivery, FileOutbox
from mailwarden.notify import outbox as outbox_module
from mailwarden.notify.notice import Notice
from mailwarden.notify.outbox import delivery_id
from mailwarden.notify.render_text import Recipients

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def deliveries(count: int) -> list[Delivery]:
    made = []
    for n in range(count):
        notice = Notice(key=f"alert:{n}", kind="alert", severity="high", title=f"spray {n}",
                        summary="private words", mailboxes=(f"room{n}@contoso.example",),
                        actions=("block sign-in",))
        made.append(Delivery(id=delivery_id(notice, "hook"), notice=notice, channel="hook",
                             recipients=Recipients(to=("it@contoso.example",))))
    return made


def snapshot_statuses(path: Path) -> dict[str, str]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return {ident: d["status"] for ident, d in data["deliveries"].items()}


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A umask that lets everyone read new files: the outbox must not rely on it."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def test_marks_survive_a_crash_and_only_the_unsent_stay_pending(tmp_path: Path) -> None:
    state = tmp_path / "notify.json"
    box = FileOutbox(state)
    a, b, c = deliveries(3)
    box.store([a, b, c], [])
    box.mark_sent(a, T0)
    box.mark_failed(b, "connection refused")
    del box  # the process dies here: nothing is written on the way out

    # The marks are in the journal only; the snapshot still has all three stored.
    assert set(snapshot_statuses(state).values()) == {"stored"}
    again = FileOutbox(state)
    assert again.replay.applied == 2 and again.replay.torn == 0 and not again.replay.stale
    pending = {d.id: d for d in again.pending()}
    assert sorted(pending) == sorted([b.id, c.id])
    assert (pending[b.id].attempts, pending[b.id].last_error) == (1, "connection refused")
    assert (pending[c.id].attempts, pending[c.id].last_error) == (0, None)
    assert again.sent_count() == 1


def test_a_torn_last_line_is_counted_ignored_and_written_over(tmp_path: Path) -> None:
    state = tmp_path / "notify.json"
    box = FileOutbox(state)
    a, b, c = deliveries(3)
    box.store([a, b, c], [])
    box.mark_sent(a, T0)
    with box.journal_path.open("ab") as journal:  # a crash in the middle of marking b sent
        journal.write(f'{{"op": "sent", "id": "{b.id}", "at'.encode())

    torn = FileOutbox(state)
    assert (torn.replay.applied, torn.replay.torn) == (1, 1)
    assert sorted(d.id for d in torn.pending()) == sorted([b.id, c.id])  # b is sent again
    torn.mark_failed(b, "timed out")

    after = FileOutbox(state)
    assert (after.replay.applied, after.replay.torn) == (2, 0)
    assert [d.attempts for d in after.pending() if d.id == b.id] == [1]


def test_a_padded_last_line_is_torn_but_damage_before_it_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "notify.json"
    box = FileOutbox(state)
    a, b = deliveries(2)
    box.store([a, b], [])
    box.mark_failed(a, "refused")
    marked = box.journal_path.read_bytes()
    # The file's new length reached the disk, its data did not.
    box.journal_path.write_bytes(marked + b"\x00" * 40 + b"\n")
    assert FileOutbox(state).replay.torn == 1
    box.journal_path.write_bytes(marked + b"\x00" * 40 + b"\n" + marked.splitlines()[-1]
                                 + b"\n")
    with pytest.raises(InputError, match=r"journal:3: the notification journal is damaged"):
        FileOutbox(state)


def test_store_folds_the_journal_into_a_new_snapshot(tmp_path: Path) -> None:
    state = tmp_path / "notify.json"
    box = FileOutbox(state)
    a, b, c = deliveries(3)
    box.store([a, b], [])
    box.mark_sent(a, T0)
    box.mark_failed(b, "refused")
    left_over = box.journal_path.read_bytes()
    box.store([c], [])
    assert not box.journal_path.exists()
    assert snapshot_statuses(state) == {a.id: "sent", b.id: "stored", c.id: "stored"}
    assert "private words" in state.read_text(encoding="utf-8")  # c's message, still due

    # A crash after the new snapshot but before the journal went: it is not applied again.
    box.journal_path.write_bytes(left_over)
    again = FileOutbox(state)
    assert again.replay.stale and again.replay.applied == 0
    assert [d.attempts for d in again.pending() if d.id == b.id] == [1]
    again.mark_failed(b, "refused")  # a journal for the new snapshot replaces the old one
    assert [d.attempts for d in FileOutbox(state).pending() if d.id == b.id] == [2]


def test_nothing_pending_or_a_long_journal_folds(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    state = tmp_path / "notify.json"
    box = FileOutbox(state)
    sent = deliveries(3)
    box.store(sent, [])
    for delivery in sent:
        box.mark_sent(delivery, T0)
    assert not box.journal_path.exists()  # the last one left nothing pending
    assert set(snapshot_statuses(state).values()) == {"sent"}
    assert "private words" not in state.read_text(encoding="utf-8")

    monkeypatch.setattr(outbox_module, "FOLD_AT_LEAST", 1)
    failing = FileOutbox(tmp_path / "failing.json")
    down = deliveries(4)
    failing.store(down, [])
    for delivery in down[:3]:
        failing.mark_failed(delivery, "refused")
    assert failing.journal_path.exists()  # three marks, four deliveries: not yet
    failing.mark_failed(down[3], "refused")
    assert not failing.journal_path.exists()
    assert {d.attempts for d in FileOutbox(tmp_path / "failing.json").pending()} == {1}


def test_a_fold_forgets_what_was_sent_long_ago(tmp_path: Path) -> None:
    state = tmp_path / "notify.json"
    box = FileOutbox(state)
    old, recent, due = deliveries(3)
    box.store([old, recent, due], [])
    box.mark_sent(old, T0)
    box.mark_sent(recent, T0 + outbox_module.KEEP_SENT + timedelta(days=1))
    assert FileOutbox(state).sent_count() == 1  # on replay
    box.store([], [])
    assert set(snapshot_statuses(state)) == {recent.id, due.id}  # and on disk


@pytest.mark.usefixtures("open_umask")
def test_the_snapshot_and_the_journal_are_private(tmp_path: Path) -> None:
    state = tmp_path / "notify.json"
    box = FileOutbox(state)
    a, b = deliveries(2)
    box.store([a, b], [])
    box.mark_failed(a, "refused")
    for path in (state, box.journal_path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    box.store([], [])
    box.journal_path.write_text("")  # left behind readable by everyone
    box.journal_path.chmod(0o644)
    box.mark_failed(a, "refused")
    assert stat.S_IMODE(box.journal_path.stat().st_mode) == 0o600


def test_a_snapshot_from_before_the_journal_is_named_before_the_first_mark(
        tmp_path: Path) -> None:
    state = tmp_path / "notify.json"
    a, b = deliveries(2)
    FileOutbox(state).store([a, b], [])
    data = json.loads(state.read_text(encoding="utf-8"))
    del data["journal"]
    state.write_text(json.dumps(data), encoding="utf-8")
    box = FileOutbox(state)
    box.mark_failed(a, "refused")
    header = json.loads(box.journal_path.read_text(encoding="utf-8").splitlines()[0])
    assert header["snapshot"] == json.loads(state.read_text(encoding="utf-8"))["journal"]
    assert FileOutbox(state).replay.applied == 1
