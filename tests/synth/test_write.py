"""What write_synthetic puts on disk."""

from __future__ import annotations

import csv
import json
import stat
from pathlib import Path

from mailwarden.synth import SyntheticTenant, write_synthetic
from mailwarden.tenant.recorded import ALL_SOURCES, read_recorded_tenant
from mailwarden.tenant.snapshot import load_snapshot


def test_every_file_is_private(small_dir: Path) -> None:
    files = [p for p in small_dir.rglob("*") if p.is_file()]
    # planted.json, custodians.csv, labels.json and the three log files.
    assert len(files) == len(ALL_SOURCES) + 6
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_rewriting_keeps_files_private(small: SyntheticTenant, tmp_path: Path) -> None:
    target = tmp_path / "planted.json"
    target.write_text("{}")
    target.chmod(0o644)
    write_synthetic(small, tmp_path)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert json.loads(target.read_text())["schema"] == "mailwarden.planted/1"


def test_files_read_back_as_written(small: SyntheticTenant, small_dir: Path) -> None:
    recorded = read_recorded_tenant(small_dir)
    assert dict(recorded.data) == dict(small.recorded.data)
    snapshot = load_snapshot(small_dir)
    assert snapshot.problems == {} and snapshot.skipped == ()


def test_planted_and_custodians_files(small: SyntheticTenant, small_dir: Path) -> None:
    planted = json.loads((small_dir / "planted.json").read_text())
    # What the logs decide (dormant-delegate) is added once they are drawn.
    dormant = planted.pop("dormant")
    assert planted == small.planted_document()
    assert set(dormant) == {"window_days", "covered", "planted", "unknown"}
    assert set(planted) >= {"schema", "size", "seed", "planted", "clean"}
    with (small_dir / "custodians.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and set(rows[0]) == {"mailbox", "custodian", "team"}
    assert len(rows) == len(small.custodians)
    assert all(row["custodian"].endswith(small.recorded.data["tenant"]["defaultDomain"])
               for row in rows)
