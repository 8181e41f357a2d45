"""Incidents seeded the way the product makes them: one watch cycle over the small
synthetic tenant (detection on its logs, the incidents kept by `IncidentStore`, the run
and its alerts stored) into the console's history database, with every notice recorded
rather than sent; and an email routing so custodians get their messages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from mailwarden.console.context import Console
from mailwarden.model.incidents import TrackedIncident
from mailwarden.notify import load_routing
from mailwarden.store.incidents import IncidentStore
from mailwarden.watch import DIRECTORY_CHECKPOINT, DirectorySource, WatchConfig
from mailwarden.watch.cycle import AnswerLinks, FirstCycle, run_cycle
from tests.watch.watch_helpers import SPRAY_CUT, Recorder, write_tenant

CLOCK = datetime(2026, 11, 1, tzinfo=UTC)
SECURITY = "secops@contoso.example"
ROUTING = f"""\
security_team: [{SECURITY}]
channels:
  mail:
    type: email
    url: mailto://alerts@127.0.0.1:9?from=alerts@contoso.example&mode=insecure
routes:
  - match: {{}}
    channels: [mail]
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class Seeded:
    tenant_id: str
    incidents: dict[str, TrackedIncident]
    sent: Recorder


def seed(console: Console, tmp_path: Path, *, answer_links: AnswerLinks | None = None
         ) -> Seeded:
    """One cycle ("all": sent as any later cycle would) into the console's database."""
    source_dir = write_tenant(tmp_path / "source", until=SPRAY_CUT)
    state = tmp_path / "state"
    (tmp_path / "routing.yaml").write_text(ROUTING, encoding="utf-8")
    config = WatchConfig(state_dir=state, routing=load_routing(tmp_path / "routing.yaml"),
                         db_url=str(console.history.url.render_as_string(hide_password=False)),
                         first_cycle=FirstCycle.ALL, answer_links=answer_links)
    sent = Recorder()
    run_cycle(config, DirectorySource(source_dir, state / DIRECTORY_CHECKPOINT), sent,
              clock=lambda: CLOCK)
    known = IncidentStore(console.history).load()
    (tenant_id,) = {i.tenant_id for i in known.values()}
    return Seeded(tenant_id=tenant_id, incidents=known, sent=sent)
