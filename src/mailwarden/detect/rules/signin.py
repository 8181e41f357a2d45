"""Sign-ins by the accounts of ownerless mailboxes, and legacy-protocol attempts on them."""

from __future__ import annotations

from mailwarden.detect.rules.base import Rule

OWNERLESS_SIGN_IN = Rule(
    id="ownerless-sign-in", category="ownerless-sign-in", severity="high",
    title="Successful sign-in by an ownerless mailbox's account",
    description="Nobody should sign in as a shared, room or equipment mailbox or an unlicensed "
    "account. Critical over a legacy protocol (IMAP, POP, SMTP, EWS, ...), the sprayable path. "
    "A leaver's unlicensed mailbox counts from the day they left.",
    mitre=("T1078",), tables=("signins",), needs=("ownerless",), uses=("departed",),
    summary="{event_count} successful sign-ins as ownerless account {target} on {window_day} "
            "({protocols}) from {source_ips}",
)

OWNERLESS_OWNER_LOGON = Rule(
    id="ownerless-owner-logon", category="ownerless-sign-in", severity="high",
    title="Mailbox opened as its own ownerless account",
    description="The mailbox audit shows an owner logon to an ownerless mailbox by the "
    "mailbox's own account (not a delegate, not calendar processing): someone holds its "
    "password or a token for it.",
    mitre=("T1078",), tables=("mailbox_audits",), needs=("ownerless",), uses=("departed",),
    summary="{target} was used as its own account on {window_day}: {operations} from "
            "{source_ips}",
)

LEGACY_PROTOCOL = Rule(
    id="legacy-protocol-auth", category="legacy-protocol-auth", severity="medium",
    title="Legacy-protocol authentication against an ownerless account",
    description="Attempts over IMAP, POP, SMTP AUTH, EWS, ActiveSync or other legacy clients, "
    "which basic authentication and password spraying use. High when one succeeded.",
    mitre=("T1078", "T1110"), tables=("signins",), needs=("ownerless",),
    summary="{event_count} legacy-protocol sign-in attempts ({protocols}) against ownerless "
            "account {target} on {window_day}: {successes} succeeded, {failures} failed",
)

RULES: tuple[Rule, ...] = (OWNERLESS_SIGN_IN, OWNERLESS_OWNER_LOGON, LEGACY_PROTOCOL)
