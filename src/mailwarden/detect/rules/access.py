"""Who reads or sends from ownerless mailboxes: access without a grant, and mass sending."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mailwarden.detect.rules.base import Rule, threshold
from mailwarden.model.findings import Severity
from mailwarden.text import plural

NON_OWNER_ACCESS = Rule(
    id="non-owner-access", category="non-owner-access", severity=Severity.HIGH,
    title="Ownerless mailbox used by someone without a grant",
    description="Items read, moved or deleted, or mail sent, on an ownerless mailbox by a person "
    "who holds no FullAccess / SendAs / SendOnBehalf grant on it per the access map, or whose "
    "grant was removed before the access. Calendar processing and system accounts are ignored.",
    mitre=("T1114.002",), tables=("mailbox_audits",), needs=("ownerless", "grants"),
    summary="{actor}, {why}, used ownerless mailbox {target} on {window_day}: {operations}",
)

def _mass_send_wording(fields: Mapping[str, Any]) -> dict[str, str]:
    recipients = int(fields["max_recipients"])
    # Only days with sends have a baseline, so it is at least 1 when there is one.
    baseline = fields["baseline"]
    return {
        "messages": plural(int(fields["sends"]), "message"),
        "usual": f"baseline {baseline} a day" if baseline else "no earlier sends to compare with",
        "largest": f", largest message to {plural(recipients, 'recipient')}"
                   if recipients else "",
        "sent_by": f"; sent by {fields['senders']}" if fields.get("senders") else "",
    }


MASS_SEND = Rule(
    id="mass-send", category="mass-send", severity=Severity.HIGH,
    title="Ownerless mailbox sends far more than usual",
    description="Sends from an ownerless mailbox in one day against its own baseline (the mean "
    "of its earlier days), or without a baseline above an absolute count, or one message to "
    "many recipients. Calendar processing (a room's automatic replies) is not counted.",
    mitre=("T1534",), tables=("mailbox_audits",), needs=("ownerless",),
    thresholds=(
        threshold("min_sends", 20, "sends in a day before the baseline is compared"),
        threshold("factor", 5, "times the baseline"),
        threshold("min_history_days", 3, "days of history that make a baseline"),
        threshold("min_sends_without_baseline", 100, "sends in a day with no baseline"),
        threshold("min_recipients", 50, "recipients of one message"),
    ),
    summary="Ownerless mailbox {target} sent {messages} on {window_day} ({usual}{largest})"
            "{sent_by}",
    wording=_mass_send_wording,
)

RULES: tuple[Rule, ...] = (NON_OWNER_ACCESS, MASS_SEND)
