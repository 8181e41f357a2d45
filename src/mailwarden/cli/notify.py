"""`mailwarden notify`: send alerts and newly failing findings to the people answerable."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import httpx
import platformdirs
import typer
from rich.text import Text

from mailwarden.cli import app
from mailwarden.cli.tables import Column, FitTable
from mailwarden.cli.ui import console, err_console
from mailwarden.notify import (
    DeliveryError,
    DeliveryReport,
    FileOutbox,
    Plan,
    Routing,
    Senders,
    load_alerts,
    load_findings,
    load_incidents,
    load_routing,
    notices_for,
    notify,
    plan_notifications,
)
from mailwarden.notify.render_text import plain_text
from mailwarden.text import plural


def default_state_path() -> Path:
    return Path(platformdirs.user_state_dir("mailwarden")) / "notify-state.json"


def _custodians(findings_custodians: dict[str, str], path: Path | None) -> dict[str, str]:
    """Custodians named in findings.json, overridden by a custodians file."""
    mapping = dict(findings_custodians)
    if path is not None:
        from mailwarden.assess import load_custodians

        mapping.update({e.mailbox: e.person for e in load_custodians(path).entries})
    return mapping


def deliveries_table(reports: tuple[DeliveryReport, ...]) -> FitTable:
    table = FitTable(
        [Column("result", ident=True), Column("kind", ident=True, drop=3),
         Column("severity", ident=True, drop=2), Column("notice"),
         Column("channel", ident=True, drop=4), Column("to"), Column("cc", drop=5),
         Column("why", beneath=True)],
        title=plural(len(reports), "delivery", "deliveries"))
    for report in reports:
        delivery = report.delivery
        result = Text("sent", style="green") if report.ok else Text("FAILED", style="bold red")
        table.add_row(result, report.decision, delivery.notice.severity,
                      Text(delivery.notice.title), delivery.channel,
                      Text(", ".join(delivery.recipients.to) or "-"),
                      Text(", ".join(delivery.recipients.cc) or "-"), Text(report.error or ""))
    return table


def _show_dry_run(plan: Plan, routing: Routing, pending: int) -> None:
    for delivery in plan.deliveries:
        channel = routing.channels[delivery.channel]
        console.rule(Text(f"{delivery.channel} ({channel.type.value}) -> "
                          f"{', '.join(delivery.recipients.to) or 'channel'}"))
        if delivery.recipients.cc:
            console.print(Text(f"Cc: {', '.join(delivery.recipients.cc)}"))
        console.print(Text(plain_text(delivery.notice, delivery.recipients)))
    skipped = sum(1 for v in plan.verdicts if v.decision == "skip")
    unrouted = len(plan.unrouted)
    console.print(
        f"dry run: {plural(len(plan.deliveries), 'delivery', 'deliveries')} would be sent, "
        f"{plural(skipped, 'notice')} already sent, {unrouted} "
        f"{'matches' if unrouted == 1 else 'match'} no route, "
        f"{plural(pending, 'earlier delivery', 'earlier deliveries')} "
        f"{'is' if pending == 1 else 'are'} pending; nothing was sent or recorded",
        markup=False,
    )


@app.command("notify")
def notify_command(
    alerts: Annotated[Path, typer.Option("--alerts", help="alerts.json from detect.")],
    routing_path: Annotated[Path, typer.Option(
        "--routing", help="Routing file (YAML); see routing.example.yaml in mailwarden.notify."
    )],
    findings: Annotated[Path | None, typer.Option(
        "--findings", help="findings.json from scan: notify findings that newly fail, and "
        "take custodians from it.")] = None,
    custodians: Annotated[Path | None, typer.Option(
        "--custodians", help="CSV or YAML mailbox -> custodian; overrides findings.json.")
    ] = None,
    state: Annotated[Path | None, typer.Option(
        "--state", help="Notification state (what was sent). Default: the user state dir.")
    ] = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Show the messages that would be sent; send and record nothing.")
    ] = False,
) -> None:
    """Send each new or worsened incident (the alerts of one attack, as alerts.json groups
    them), and each newly failing finding, to the mailbox's custodian and the channels the
    routing file names. The routing file (docs/routing.md) is checked whole first: every
    problem in it is listed with its line, and nothing is sent.

    Exit codes: 0 every delivery accepted; 2 bad usage or input (the routing file, alerts
    or findings); 4 a delivery failed (it stays pending and is retried on the next run);
    70 internal error."""
    routing = load_routing(routing_path)
    alert_items = load_alerts(alerts)
    incident_items = load_incidents(alerts)
    scan = load_findings(findings) if findings else None
    people = _custodians(dict(scan.custodians) if scan else {}, custodians)
    outbox = FileOutbox(state or default_state_path())
    since = scan.generated_at if scan else ""
    if dry_run:
        notices = notices_for(alert_items, scan.findings if scan else None,
                              previous_failing=outbox.failing_findings(), since=since,
                              incidents=incident_items)
        plan = plan_notifications(notices, routing, people, outbox.remembered())
        _show_dry_run(plan, routing, len(outbox.pending()))
        return
    with httpx.Client() as client:
        senders = Senders(client=client, redact=routing.redactor)
        plan, reports = notify(outbox, routing, senders.send, alerts=alert_items,
                               findings=scan.findings if scan else None, custodians=people,
                               since=since, incidents=incident_items)
    console.print(deliveries_table(reports))
    if plan.unrouted:
        unrouted = len(plan.unrouted)
        err_console.print(f"{plural(unrouted, 'notice')} {'matches' if unrouted == 1 else 'match'}"
                          f" no route in {routing.source}", markup=False)
    failed = [r for r in reports if not r.ok]
    if failed:
        one = len(failed) == 1
        raise DeliveryError(
            f"{len(failed)} of {plural(len(reports), 'delivery', 'deliveries')} failed; "
            f"{'it stays' if one else 'they stay'} pending in {outbox.path} and "
            f"{'is' if one else 'are'} retried on the next run")
