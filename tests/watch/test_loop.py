"""The loop: cycles on an interval, backs off while throttled, stops on what a person must
fix; durations as people write them."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import mailwarden.watch.loop as loop_module
from mailwarden.errors import AuthError, ConfigError, RetriesExhaustedError, ServiceError
from mailwarden.watch import LoopOptions, WatchConfig, backoff, retryable, watch_loop
from mailwarden.watch.durations import parse_duration
from mailwarden.watch.report import CycleReport


class FakeSource:
    description = "fake"


def report() -> CycleReport:
    return CycleReport(started_at="s", finished_at="f", seconds=0.0, source="fake",
                       records_new=1, records_written=1, records_unreadable=0, records_late=0,
                       window_records=1, window_days_dropped=0, posture_refreshed=False,
                       alerts=0, incidents_open=0, incidents_edge_suppressed=0,
                       incidents_acknowledged=0)


def run(monkeypatch: pytest.MonkeyPatch, outcomes: list[Any], options: LoopOptions,
        tmp_path: Path) -> tuple[list[float], list[dict[str, Any]], int]:
    """Run the loop with cycles that raise or succeed in the order given."""
    pending = list(outcomes)

    def fake_cycle(*args: Any, **kwargs: Any) -> CycleReport:
        outcome = pending.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return report()

    monkeypatch.setattr(loop_module, "run_cycle", fake_cycle)
    waits: list[float] = []
    lines: list[str] = []
    config = WatchConfig(state_dir=tmp_path, routing=None)  # type: ignore[arg-type]
    done = watch_loop(config, FakeSource(), lambda c, d: None,  # type: ignore[arg-type]
                      options=options, log=lines.append, sleep=waits.append)
    return waits, [json.loads(line) for line in lines], done


def test_throttled_cycles_back_off_and_a_success_resets(monkeypatch: pytest.MonkeyPatch,
                                                       tmp_path: Path) -> None:
    throttled = RetriesExhaustedError("Graph throttled (429) beyond the retry policy")
    options = LoopOptions(interval=timedelta(minutes=1), max_cycles=4)
    waits, lines, done = run(monkeypatch, [throttled, throttled, "ok", "ok"], options, tmp_path)
    assert done == 2
    assert waits[:2] == [120.0, 240.0]
    assert 0 <= waits[2] <= 60.0
    assert [line["ok"] for line in lines] == [False, False, True, True]
    assert lines[0]["retry_in_seconds"] == 120.0 and lines[0]["error"] == "RetriesExhaustedError"
    assert lines[2]["event"] == "watch-cycle" and lines[2]["records_new"] == 1


def test_errors_a_person_must_fix_end_the_loop(monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    options = LoopOptions(interval=timedelta(minutes=1), max_cycles=5)
    with pytest.raises(AuthError):
        run(monkeypatch, [AuthError("the client secret was refused")], options, tmp_path)
    once = LoopOptions(once=True)
    with pytest.raises(ServiceError):
        run(monkeypatch, [ServiceError("throttled")], once, tmp_path)


def test_backoff_is_capped_and_retryable_is_narrow() -> None:
    assert backoff(timedelta(minutes=15), 0) == timedelta(minutes=15)
    assert backoff(timedelta(minutes=15), 1) == timedelta(minutes=30)
    assert backoff(timedelta(minutes=15), 10) == timedelta(minutes=75)
    assert retryable(ServiceError("503"))
    assert not retryable(AuthError("refused"))
    assert not retryable(ConfigError("bad"))
    assert not retryable(ValueError("bug"))


@pytest.mark.parametrize(("text", "expected"), [
    ("15m", timedelta(minutes=15)), ("24h", timedelta(hours=24)), ("8d", timedelta(days=8)),
    ("1h30m", timedelta(minutes=90)), ("90s", timedelta(seconds=90)), ("2w", timedelta(days=14)),
])
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text, what="--interval") == expected


@pytest.mark.parametrize("text", ["", "15", "m", "15x", "0m", "-5m", "5 minutes"])
def test_bad_durations_say_how_to_write_one(text: str) -> None:
    with pytest.raises(ConfigError, match="--interval"):
        parse_duration(text, what="--interval")
