"""Sign-ins by the accounts of ownerless mailboxes, and legacy-protocol attempts on them."""

from __future__ import annotations

from mailwarden.detect.rules.base import Rule
from mailwarden.detect.rules.wording import from_addresses
from mailwarden.model.findings import Severity
from mailwarden.text import plural

OWNERLESS_SIGN_IN = Rule(
    id="ownerless-sign-in", category="ownerless-sign-in", severity=Severity.HIGH,
    title="Successful sign-in by an ownerless mailbox's account",
    description="Nobody should sign in as a shared, room or equipment mailbox or an unlicensed "
    "account. Critical over a legacy protocol (IMAP, POP, SMTP, EWS, ...), the sprayable path. "
    "A leaver's unlicensed mailbox counts from the day they left.",
    mitre=("T1078",), tables=("signins",), needs=("ownerless",), uses=("departed",),
    summary="{sign_ins} as ownerless account {target} on {window_day} ({protocols})"
            "{from_addresses}",
    wording=lambda fields: {
        "sign_ins": plural(int(fields["event_count"]), "successful sign-in"),
        "from_addresses": from_addresses(fields["source_ips"])},
)

OWNERLESS_OWNER_LOGON = Rule(
    id="ownerless-owner-logon", category="ownerless-sign-in", severity=Severity.HIGH,
    title="Mailbox opened as its own ownerless account",
    description="The mailbox audit shows an owner logon to an ownerless mailbox by the "
    "mailbox's own account (not a delegate, not calendar processing): someone holds its "
    "password or a token for it.",
    mitre=("T1078",), tables=("mailbox_audits",), needs=("ownerless",), uses=("departed",),
    summary="Ownerless mailbox {target} was opened by its own account{from_addresses} on "
            "{window_day}: {operations}",
    wording=lambda fields: {"from_addresses": from_addresses(fields["source_ips"])},
)

LEGACY_PROTOCOL = Rule(
    id="legacy-protocol-auth", category="legacy-protocol-auth", severity=Severity.MEDIUM,
    title="Legacy-protocol authentication against an ownerless account",
    description="Attempts over IMAP, POP, SMTP AUTH, EWS, ActiveSync or other legacy clients, "
    "which basic authentication and password spraying use. High when one succeeded.",
    mitre=("T1078", "T1110"), tables=("signins",), needs=("ownerless",),
    summary="{attempts} ({protocols}) against ownerless account {target} on {window_day}: "
            "{successes} succeeded, {failures} failed",
    wording=lambda fields: {
        "attempts": plural(int(fields["event_count"]), "legacy-protocol sign-in attempt")},
)

RULES: tuple[Rule, ...] = (OWNERLESS_SIGN_IN, OWNERLESS_OWNER_LOGON, LEGACY_PROTOCOL)
