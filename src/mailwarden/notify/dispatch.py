"""From alerts and findings to deliveries: decide, route, store, send, report.

`plan_notifications` is pure: which notices to send to which channels and people.
`notify` stores the plan in the outbox and then sends everything pending, one delivery at
a time; a failed delivery is reported (channel, notice, why), stays pending for the next
run, and never stops the others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mailwarden.model.findings import Finding
from mailwarden.notify.dedup import (
    Decision,
    SentState,
    Verdict,
    decide,
    failing_keys,
    newly_failing,
    remembered,
)
from mailwarden.notify.notice import (
    Notice,
    alert_notice,
    finding_notice,
    incident_marks,
    incident_notice,
)
from mailwarden.notify.outbox import Delivery, Outbox, delivery_id
from mailwarden.notify.render_text import Recipients
from mailwarden.notify.routing import COPY_SECURITY_AT, Channel, Routing

SendFunction = Callable[[Channel, Delivery], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    verdicts: tuple[Verdict, ...]
    deliveries: tuple[Delivery, ...]
    remember: tuple[SentState, ...]
    unrouted: tuple[Notice, ...]  # notices worth sending that no route matched


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryReport:
    delivery: Delivery
    ok: bool
    error: str | None = None

    @property
    def decision(self) -> str:
        if self.delivery.attempts:
            return "retry"
        return "escalation" if self.delivery.notice.escalation else "new"


def _channels(routing: Routing, notice: Notice) -> tuple[Channel, ...]:
    """The routed channels; an incident goes where any of its alerts would go."""
    kinds = [kind.split("/", 1) for kind in notice.alert_kinds] or [
        [notice.category or "", notice.rule_id or ""]]
    found: dict[str, Channel] = {}
    for category, rule_id in kinds:
        for channel in routing.channels_for(
                kind=notice.kind, category=category or notice.category,
                rule_id=rule_id or notice.rule_id, check_id=notice.check_id,
                severity=notice.severity):
            found.setdefault(channel.name, channel)
    return tuple(found.values())


def recipients_for(notice: Notice, routing: Routing, custodians: Mapping[str, str]) -> Recipients:
    """To: the custodians of the notice's mailboxes, else the fallback, else the security
    team. Cc: the security team for high and critical notices."""
    people = list(dict.fromkeys(custodians[m] for m in notice.mailboxes if m in custodians))
    missing = [m for m in notice.mailboxes if m not in custodians]
    note = None
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5
                                          else "")
        note = (f"No custodian is mapped for {shown} (check no-custodian): name one in the "
                "custodians file so alerts reach someone answerable.")
    to = tuple(people) or routing.fallback or routing.security_team
    cc = routing.security_team if notice.severity in COPY_SECURITY_AT else ()
    return Recipients(to=to, cc=tuple(a for a in cc if a not in to), note=note)


def notices_for(alerts: Iterable[Mapping[str, Any]], findings: Sequence[Finding] | None,
                *, previous_failing: frozenset[str] | None, since: str,
                incidents: Sequence[Mapping[str, Any]] | None = None) -> tuple[Notice, ...]:
    """A notice per incident (per alert when there are no incidents, as in an alerts.json
    written before them), and per finding that fails now and did not before."""
    alerts = list(alerts)
    if incidents:
        grouped = {a for incident in incidents for a in incident.get("alert_ids") or ()}
        notices = [incident_notice(incident, alerts, incident_marks(incident, alerts))
                   for incident in incidents]
        notices += [alert_notice(a) for a in alerts if a.get("id") not in grouped]
    else:
        notices = [alert_notice(alert) for alert in alerts]
    if findings is not None:
        notices += [finding_notice(f, since=since)
                    for f in newly_failing(previous_failing, findings)]
    return tuple(notices)


def plan_notifications(notices: Iterable[Notice], routing: Routing,
                       custodians: Mapping[str, str],
                       previous: Mapping[str, SentState]) -> Plan:
    verdicts = decide(previous, notices)
    deliveries: list[Delivery] = []
    remember: dict[str, SentState] = {}
    unrouted: list[Notice] = []
    for verdict in verdicts:
        if verdict.decision is Decision.SKIP:
            continue
        notice = verdict.notice
        channels = _channels(routing, notice)
        if not channels:
            unrouted.append(notice)
            continue
        recipients = recipients_for(notice, routing, custodians)
        deliveries += [Delivery(id=delivery_id(notice, c.name), notice=notice, channel=c.name,
                                recipients=recipients) for c in channels]
        remember[notice.key] = remembered(remember.get(notice.key) or previous.get(notice.key),
                                          notice)
    return Plan(verdicts=verdicts, deliveries=tuple(deliveries),
                remember=tuple(remember.values()), unrouted=tuple(unrouted))


def send_pending(outbox: Outbox, routing: Routing, send: SendFunction, *,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 ) -> tuple[DeliveryReport, ...]:
    """Send every stored, unsent delivery; each outcome is recorded as it happens."""
    reports = []
    redact = routing.redactor
    for delivery in outbox.pending():
        channel = routing.channels.get(delivery.channel)
        try:
            if channel is None:
                raise LookupError(f"channel {delivery.channel} is no longer in "
                                  f"{routing.source}; add it back or the delivery stays unsent")
            send(channel, delivery)
        except Exception as exc:  # one channel's failure must not stop the other deliveries
            reason = redact(str(exc) or type(exc).__name__)
            outbox.mark_failed(delivery, reason)
            reports.append(DeliveryReport(delivery=delivery, ok=False, error=reason))
            continue
        outbox.mark_sent(delivery, clock())
        reports.append(DeliveryReport(delivery=delivery, ok=True))
    return tuple(reports)


def notify(outbox: Outbox, routing: Routing, send: SendFunction, *,
           alerts: Iterable[Mapping[str, Any]], findings: Sequence[Finding] | None,
           custodians: Mapping[str, str], since: str,
           incidents: Sequence[Mapping[str, Any]] | None = None,
           ) -> tuple[Plan, tuple[DeliveryReport, ...]]:
    """Decide, store, then send: what `mailwarden notify` does."""
    notices = notices_for(alerts, findings, previous_failing=outbox.failing_findings(),
                          since=since, incidents=incidents)
    plan = plan_notifications(notices, routing, custodians, outbox.remembered())
    outbox.store(plan.deliveries, plan.remember,
                 failing_findings=failing_keys(findings) if findings is not None else None)
    return plan, send_pending(outbox, routing, send)
