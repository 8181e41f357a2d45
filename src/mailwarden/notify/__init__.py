"""Routing alerts and posture drift to the people answerable for each mailbox.

    routing = load_routing(Path("routing.yaml"))           # format: see `routing`
    outbox = FileOutbox(Path("notify-state.json"))
    with httpx.Client(trust_env=False) as client:
        senders = Senders(client=client, redact=routing.redactor)
        plan, reports = notify(outbox, routing, senders.send, alerts=load_alerts(path),
                               findings=None, custodians={}, since=generated_at)

`notify` decides (new, unchanged, or worse than what was sent), stores the deliveries in
the outbox, then sends every pending one; `routing.example.yaml` is a documented example.
"""

from mailwarden.notify.channels import DeliveryError, Senders, email_url
from mailwarden.notify.dedup import (
    Decision,
    SentState,
    Verdict,
    decide,
    drift,
    failing_keys,
    finding_key,
    newly_failing,
)
from mailwarden.notify.dispatch import (
    DeliveryReport,
    Plan,
    notices_for,
    notify,
    plan_notifications,
    recipients_for,
    send_pending,
)
from mailwarden.notify.inputs import FindingsFile, load_alerts, load_findings, load_incidents
from mailwarden.notify.notice import Notice, alert_notice, finding_notice, incident_notice
from mailwarden.notify.outbox import Delivery, FileOutbox, Outbox
from mailwarden.notify.redact import Redactor, redact_url
from mailwarden.notify.render_text import Recipients
from mailwarden.notify.routing import Catalogue, Channel, ChannelType, Routing, load_routing

__all__ = [
    "Catalogue",
    "Channel",
    "ChannelType",
    "Decision",
    "Delivery",
    "DeliveryError",
    "DeliveryReport",
    "FileOutbox",
    "FindingsFile",
    "Notice",
    "Outbox",
    "Plan",
    "Recipients",
    "Redactor",
    "Routing",
    "Senders",
    "SentState",
    "Verdict",
    "alert_notice",
    "decide",
    "drift",
    "email_url",
    "failing_keys",
    "finding_key",
    "finding_notice",
    "incident_notice",
    "load_alerts",
    "load_findings",
    "load_incidents",
    "load_routing",
    "newly_failing",
    "notices_for",
    "notify",
    "plan_notifications",
    "recipients_for",
    "redact_url",
    "send_pending",
]
