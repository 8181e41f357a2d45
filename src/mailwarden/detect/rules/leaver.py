"""Access by people who left, from their addresses or devices, or right after probing them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mailwarden.detect.rules.base import Rule, threshold
from mailwarden.detect.rules.wording import in_brackets, joined, listing
from mailwarden.model.findings import Severity
from mailwarden.text import plural

_MARK_WORDS = {"ip": "IP address", "device": "device"}

LEAVER_MAILBOX_ACTIVITY = Rule(
    id="leaver-mailbox-activity", category="leaver-access", severity=Severity.HIGH,
    title="Mailbox activity by a departed person",
    description="The mailbox audit records actions by a disabled or departed person after "
    "they left (any time, when the departure date is unknown). Critical on an ownerless "
    "mailbox.",
    mitre=("T1078",), tables=("mailbox_audits",), needs=("departed",), uses=("ownerless",),
    summary="Departed person {person} acted on mailbox {target} on {window_day}: {operations}",
)

LEAVER_SIGN_IN = Rule(
    id="leaver-sign-in", category="leaver-access", severity=Severity.HIGH,
    title="Successful sign-in by a departed person",
    description="A disabled or departed person's account signed in successfully after they "
    "left: the account was not blocked, or a token outlived the departure.",
    mitre=("T1078",), tables=("signins",), needs=("departed",),
    summary="Departed person {target} signed in successfully {times} on {window_day}{apps}",
    wording=lambda fields: {"times": plural(int(fields["event_count"]), "time"),
                            "apps": in_brackets(fields["apps"])},
)

LEAVER_ADDRESS_ON_OWNERLESS = Rule(
    id="leaver-address-on-ownerless", category="leaver-access", severity=Severity.CRITICAL,
    title="Ownerless account used from a departed person's address or device",
    description="An ownerless account signs in from an IP address or device that a departed "
    "person used, after they left. Addresses many people share (an office NAT) are ignored.",
    mitre=("T1078",), tables=("signins",), needs=("ownerless", "departed"),
    thresholds=(threshold("max_ip_accounts", 3, "an IP used by more accounts is shared"),),
    summary="Ownerless account {target} signed in on {window_day} from the {marks} of "
            "departed person {person}{addresses}",
    wording=lambda fields: {
        "marks": joined([_MARK_WORDS.get(mark, mark) for mark in fields["marks"]]),
        "addresses": in_brackets(fields["source_ips"])},
)

def _probed(fields: Mapping[str, Any]) -> str:
    probed = list(fields["probed"])
    if len(probed) == 1:
        return f"the disabled or departed account {probed[0]}"
    return f"{len(probed)} disabled or departed accounts ({listing(probed)})"


DISABLED_PROBE_THEN_OWNERLESS = Rule(
    id="disabled-probe-then-ownerless", category="leaver-access", severity=Severity.CRITICAL,
    title="An address that tried a disabled account then signed in to an ownerless one",
    description="An IP address tries a disabled or departed account (error 50057, or any "
    "attempt after the departure) and then signs in to an ownerless account: the departed "
    "person, locked out of their own account, using a shared mailbox's password.",
    mitre=("T1078",), tables=("signins",), needs=("ownerless",), uses=("departed",),
    thresholds=(threshold("window_hours", 168, "how long after the probe the sign-in counts"),),
    summary="{source_ips} tried {probed_accounts} and then signed in to ownerless account "
            "{target}",
    wording=lambda fields: {"probed_accounts": _probed(fields)},
)

RULES: tuple[Rule, ...] = (LEAVER_MAILBOX_ACTIVITY, LEAVER_SIGN_IN, LEAVER_ADDRESS_ON_OWNERLESS,
                           DISABLED_PROBE_THEN_OWNERLESS)
