"""Open and acknowledged alerts: an acknowledged alert stays quiet unless it gets worse."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mailwarden.errors import InputError
from mailwarden.watch.registry import AlertRegistry

NOW = datetime(2026, 10, 6, tzinfo=UTC)


def alert(ident: str, severity: str = "high", **facts: Any) -> dict[str, Any]:
    return {"id": ident, "category": "password-spray", "rule_id": "spray-ip",
            "severity": severity, "target": None, "targets": ["a@x.example"],
            "summary": "spray", "first_seen": "2026-10-05T02:00:00Z",
            "last_seen": "2026-10-05T03:00:00Z", "facts": facts}


def test_acknowledged_alerts_are_held_back_until_they_escalate(tmp_path: Path) -> None:
    registry = AlertRegistry(tmp_path)
    assert [a["id"] for a in registry.observe([alert("s1"), alert("s2")], NOW)] == ["s1", "s2"]
    registry.save()
    assert stat.S_IMODE(registry.path.stat().st_mode) == 0o600
    acked = AlertRegistry(tmp_path).acknowledge("s1", NOW)
    assert acked.status == "acknowledged"

    registry = AlertRegistry(tmp_path)
    assert [a["id"] for a in registry.observe([alert("s1"), alert("s2")], NOW)] == ["s2"]
    assert [t.id for t in registry.alerts()] == ["s2"]
    assert {t.id for t in registry.alerts(include_acknowledged=True)} == {"s1", "s2"}
    # The spray now has an account whose password was right: worse than when acknowledged.
    worse = alert("s1", "critical", proven=["a@x.example"])
    assert [a["id"] for a in registry.observe([worse], NOW)] == ["s1"]
    reopened = next(t for t in registry.alerts() if t.id == "s1")
    assert reopened.reopened and reopened.severity == "critical"
    assert reopened.marks == ("password-proven",)


def test_ack_by_unique_prefix_and_clear_errors(tmp_path: Path) -> None:
    registry = AlertRegistry(tmp_path)
    registry.observe([alert("abc1"), alert("abd2")], NOW)
    registry.save()
    assert registry.acknowledge("abc", NOW).id == "abc1"
    with pytest.raises(InputError, match="matches 2 alerts"):
        registry.acknowledge("ab", NOW)
    with pytest.raises(InputError, match="alerts --all"):
        registry.acknowledge("zzz", NOW)


def test_acknowledged_alerts_are_forgotten_after_90_days(tmp_path: Path) -> None:
    registry = AlertRegistry(tmp_path)
    registry.observe([alert("old"), alert("open")], NOW)
    registry.acknowledge("old", NOW)
    registry.observe([], NOW + timedelta(days=91))
    assert [t.id for t in registry.alerts(include_acknowledged=True)] == ["open"]


def test_a_foreign_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "alerts-state.json").write_text('{"schema": "other"}', encoding="utf-8")
    with pytest.raises(InputError, match="expected schema"):
        AlertRegistry(tmp_path)
