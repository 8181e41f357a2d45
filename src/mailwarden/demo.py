"""The demo: a synthetic tenant served by the emulator on loopback, collected through the
real client path (MSAL, the one HTTP client, Graph and Exchange), then assessed.

Nothing leaves 127.0.0.1. The emulator accepts the client secret `emulator-secret`, which
the demo hands to MSAL directly instead of through the environment.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from mailwarden.collect.logs import LogBatch
from mailwarden.detect.results import DetectionResult
from mailwarden.emulator.app import create_app
from mailwarden.emulator.config import DEFAULT_CLIENT_SECRET
from mailwarden.emulator.serve import serve_in_thread
from mailwarden.files import write_private_text
from mailwarden.m365.auth import secret_token_source
from mailwarden.m365.session import M365Session
from mailwarden.pipeline import (
    Scan,
    audit_usage,
    collect_live_tenant,
    collect_logs_to_directory,
    detect_logs,
    rank_by_evidence,
    report_and_store,
    scan_snapshot,
    write_alerts,
    write_findings,
    write_tenant_directory,
)
from mailwarden.progress import Progress
from mailwarden.report import ReportFormat
from mailwarden.settings import SECRET_ENV, Settings
from mailwarden.synth import generate
from mailwarden.synth.constants import COLLECTED_AT
from mailwarden.synth.logs import synthetic_logs
from mailwarden.synth.logs_usage import USAGE_DAYS
from mailwarden.tenant.recorded import RecordedTenant
from mailwarden.tenant.snapshot import snapshot_from_recorded

#: Days of sign-in and audit records the demo reads (the synthetic tenant holds 30).
LOG_DAYS = 35
#: The application id the demo signs in as (the emulator accepts any).
DEMO_CLIENT_ID = "00000000-0000-0000-0000-00000000d3m0"


@dataclass(slots=True, kw_only=True)
class DemoRun:
    out: Path
    base_url: str = ""
    recorded: RecordedTenant | None = None
    scan: Scan | None = None
    files: list[Path] = field(default_factory=list)
    run_id: int | None = None
    detection: DetectionResult | None = None
    logs: LogBatch | None = None
    requests: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def run_demo(
    out: Path,
    *,
    size: str = "small",
    seed: int = 0,
    db_url: str | None = None,
    progress: Progress | None = None,
    step: Callable[[str], None] = lambda message: None,
) -> DemoRun:
    """Generate, serve, collect, assess; write the recorded tenant and findings under `out`."""
    run = DemoRun(out=out)
    started = time.perf_counter()
    step(f"generating a {size} synthetic tenant (seed {seed})")
    synthetic = generate(size, seed=seed)
    run.seconds["generate"] = time.perf_counter() - started

    tenant_dir = out / "tenant"
    logs = synthetic_logs(synthetic.model, size=size, seed=seed) if synthetic.model else None
    app = create_app(synthetic.recorded, logs=logs.by_kind() if logs else None)
    with serve_in_thread(app) as served:
        run.base_url = served.base_url
        step(f"emulator serving on {served.base_url}; collecting through MSAL, Graph and Exchange")
        settings = Settings(
            tenant=str(synthetic.recorded.data["tenant"]["tenantId"]),
            client_id=DEMO_CLIENT_ID,
            login_url=served.base_url,
            graph_url=served.base_url,
            exo_url=served.base_url,
            ca_bundle=served.ca_file,
        )
        tokens = secret_token_source(settings, env={SECRET_ENV: DEFAULT_CLIENT_SECRET})
        with M365Session(settings, tokens=tokens) as session:
            started = time.perf_counter()
            recorded = collect_live_tenant(session, progress=progress)
            run.seconds["collect"] = time.perf_counter() - started
            write_tenant_directory(tenant_dir, recorded)
            if logs is not None:
                step("reading sign-ins, directory audits and the Unified Audit Log from the APIs")
                started = time.perf_counter()
                run.logs = collect_logs_to_directory(
                    session, tenant_dir,
                    checkpoint_file=tenant_dir / "logs" / ".checkpoint.json",
                    # The audit log's history reaches further back than the other logs:
                    # dormant-delegate needs it to cover its 90-day window.
                    start=COLLECTED_AT - timedelta(days=max(LOG_DAYS, USAGE_DAYS)),
                    progress=progress,
                )
                run.seconds["collect_logs"] = time.perf_counter() - started
        stats = served.stats.as_dict()
    run.requests = {
        name: int(values.get("requests", 0))
        for name, values in stats.get("services", {}).items()
        if isinstance(values, dict)
    }
    # The custodians file an administrator keeps beside the tenant: mailbox -> person, team.
    custodians = tenant_dir / "custodians.csv"
    write_private_text(custodians, synthetic.custodians_csv())
    run.recorded = recorded

    step("assessing the collected tenant")
    started = time.perf_counter()
    run.scan = scan_snapshot(snapshot_from_recorded(recorded), custodians_file=custodians,
                             usage=audit_usage(tenant_dir))
    run.seconds["assess"] = time.perf_counter() - started

    step("analysing the sign-in and audit records with the tenant as context")
    started = time.perf_counter()
    run.detection = detect_logs(tenant_dir, run.scan, progress=progress)
    run.seconds["detect"] = time.perf_counter() - started
    # What the logs show ranks the mailboxes: findings.json, the terminal and the reports
    # all take the ranked result.
    run.scan = rank_by_evidence(run.scan, run.detection)
    run.files.append(write_findings(run.scan.result, out))
    if run.detection is not None:
        run.files.append(write_alerts(run.detection, out, generated_at=datetime.now(UTC)))

    step("writing the reports and keeping the run in the history")
    reports, run.run_id = report_and_store(
        run.scan, out, detection=run.detection, formats=tuple(ReportFormat), db_url=db_url
    )
    run.files.extend(p for p in reports if p not in run.files)
    return run
