"""A small synthetic tenant cut into log slices, a recording sender, local HTTP and SMTP
receivers: what the watch tests share."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mailwarden.files import write_private_text
from mailwarden.notify import Channel, Delivery, load_routing
from mailwarden.notify.digest import item_of
from mailwarden.notify.routing import Routing
from mailwarden.synth import SyntheticTenant, generate
from mailwarden.synth.logs import SyntheticLogs, synthetic_logs
from mailwarden.tenant.recorded import write_recorded_tenant
from mailwarden.watch.records import LOG_KINDS, record_of

#: The synthetic logs run through October 2026; the watch tests read a few days of them.
FIRST_CUT = datetime(2026, 10, 4, tzinfo=UTC)  # cycle 1 sees the logs before this
SPRAY_CUT = datetime(2026, 10, 6, tzinfo=UTC)  # cycle 2 adds the fast spray of 5 October


@functools.cache
def tenant() -> SyntheticTenant:
    return generate("small", seed=1)


@functools.cache
def logs() -> SyntheticLogs:
    model = tenant().model
    assert model is not None
    return synthetic_logs(model, size=tenant().size, seed=tenant().seed)


def rows_of(kind: str) -> list[dict[str, Any]]:
    """One log's records; the audit log's history before the other logs' start (kept for
    dormant-delegate) is left out, so that every record falls inside the watch window."""
    found = {"signIns": logs().signins, "directoryAudits": logs().directory_audits,
             "ual": logs().ual}[kind]
    start = str(logs().labels["window"]["start"]).rstrip("Z")
    if kind == "ual":
        return [row for row in found if row["CreationTime"] >= start]
    return list(found)


def slice_of(kind: str, start: datetime | None, end: datetime) -> list[dict[str, Any]]:
    """The records of one log with start <= time < end."""
    chosen = []
    for row in rows_of(kind):
        record = record_of(kind, row)  # type: ignore[arg-type]
        assert record is not None
        if (start is None or record.time >= start) and record.time < end:
            chosen.append(row)
    return chosen


def slice_ids(start: datetime | None, end: datetime) -> set[str]:
    return {record.id for kind in LOG_KINDS for row in slice_of(kind, start, end)
            if (record := record_of(kind, row)) is not None}


def write_tenant(directory: Path, *, until: datetime) -> Path:
    """A recorded tenant with custodians.csv and logs/ (JSON Lines) before `until`."""
    write_recorded_tenant(directory, tenant().recorded)
    write_private_text(directory / "custodians.csv", tenant().custodians_csv())
    for kind in LOG_KINDS:
        append_logs(directory, kind, slice_of(kind, None, until))
    return directory


def append_logs(directory: Path, kind: str, rows: list[dict[str, Any]]) -> None:
    path = directory / "logs" / f"{kind}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row) + "\n")


def append_slice(directory: Path, start: datetime, end: datetime) -> None:
    for kind in LOG_KINDS:
        append_logs(directory, kind, slice_of(kind, start, end))


@dataclass
class Recorder:
    """A send function that keeps what it was given."""

    sent: list[Delivery] = field(default_factory=list)

    def __call__(self, channel: Channel, delivery: Delivery) -> None:
        self.sent.append(delivery)

    def items(self) -> list[Mapping[str, Any]]:
        """Every notice sent, alone or in a digest, as a digest lists it."""
        return [item for d in self.sent for item in (
            d.notice.items if d.notice.kind == "digest" else (item_of(d.notice),))]

    def keys(self) -> list[str]:
        """The keys of the notices sent, those in digests included."""
        return [str(item["key"]) for item in self.items()]

    def alert_ids(self) -> list[str]:
        """The alerts the sent notices tell of: each incident's, or the alert's own."""
        return [str(alert_id) for item in self.items() if item["kind"] == "alert"
                for alert_id in item.get("alert_ids") or ()]


def routing(directory: Path, text: str | None = None) -> Routing:
    """A routing file with one JSON webhook that every notice matches (unless given)."""
    path = directory / "routing.yaml"
    path.write_text(text or """\
security_team: [secops@contoso.example]
channels:
  hook:
    type: json
    url: http://127.0.0.1:9/hook
routes:
  - match: {}
    channels: [hook]
""", encoding="utf-8")
    return load_routing(path)


