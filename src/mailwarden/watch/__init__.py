"""Watching a tenant: new log records every cycle, incidents routed to people, restart-safe.

    config = WatchConfig(state_dir=Path("state"), routing=load_routing(Path("routing.yaml")))
    source = DirectorySource(Path("tenant-dir"), config.state_dir / DIRECTORY_CHECKPOINT)
    with httpx.Client() as client:
        senders = Senders(client=client, redact=config.routing.redactor)
        report = run_cycle(config, source, senders.send)      # or watch_loop(...)

The watcher's state lives in the state directory (files 0600, replaced atomically):

    STATE/tenant/              the posture as a recorded tenant (re-collected when due)
    STATE/tenant/logs/         the rolling window of log records, one JSON Lines file per
                               log and day (`window`), what detection reads
    STATE/checkpoint.json      how far the logs were read from the API (`api`, `collect.logs`)
    STATE/from-dir-checkpoint.json   the same for a directory source (`source`)
    STATE/notify-state.json    the outbox: what is to be sent and what was (`notify`)
    STATE/notify-state.json.journal   marks since that snapshot, one line each
    STATE/watch-state.json     when the posture was collected, cycle count (`state`)
    STATE/mailwarden.lock      held by the one process using the folder (`statelock`)

The runs are stored in the one run history every command uses (`WatchConfig.db_url`,
else MAILWARDEN_DB, else the per-user default; `mailwarden.store`), so `mailwarden
history` and `diff` show them, and the incidents with their lifecycle (open, notified,
acknowledged, resolved), which `mailwarden alerts` lists; the state directory holds no
database. (Versions before kept it as STATE/history.db: `legacy_history` finds one,
which `watch` points out.)

A cycle (`cycle.run_cycle`) pulls new records, appends them to the window (idempotent),
re-collects the posture when due, runs the checks and detection over the window, folds
the alerts into incidents, stores the run, stores the notices in the outbox, sends them,
and only then moves the checkpoint; see `cycle` for why a kill at any point loses and
duplicates nothing.
"""

from mailwarden.watch.api import CHECKPOINT_FILE as API_CHECKPOINT
from mailwarden.watch.cycle import WatchConfig, run_cycle
from mailwarden.watch.loop import LoopOptions, backoff, retryable, watch_loop
from mailwarden.watch.report import CycleReport
from mailwarden.watch.source import DirectorySource, Pull, TenantSource

#: The directory source's checkpoint file in the state directory.
DIRECTORY_CHECKPOINT = "from-dir-checkpoint.json"

__all__ = [
    "API_CHECKPOINT",
    "DIRECTORY_CHECKPOINT",
    "CycleReport",
    "DirectorySource",
    "LoopOptions",
    "Pull",
    "TenantSource",
    "WatchConfig",
    "backoff",
    "retryable",
    "run_cycle",
    "watch_loop",
]
