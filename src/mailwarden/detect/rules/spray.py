"""Password spray and brute force over the sign-in log.

A spray is grouped by its source (one IP, one /24 or /64, or one user agent across
IPs) into campaigns: failed guesses from the source with no gap longer than
`max_gap_hours`, so a low-and-slow spray (one guess per account per hour or per day)
stays one campaign. A campaign is a spray when enough accounts failed there without
a quick success from the same source (a typo followed by the right password is not a
guess) and those accounts are a large share of everyone signing in from the source
(an office NAT, where hundreds sign in in the same week and a few mistype, is not a
spray). A success or a code that shows the password was right (MFA required, blocked
by conditional access, ...) from the source during or after the campaign escalates it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mailwarden.detect.rules.base import Rule, threshold
from mailwarden.detect.rules.wording import listing
from mailwarden.model.findings import Severity
from mailwarden.text import plural

_SPRAY_THRESHOLDS = (
    threshold("min_accounts", 10, "accounts that failed without a quick success"),
    threshold("max_gap_hours", 48, "longest pause inside one campaign"),
    threshold("min_failed_share", 0.3, "share of the source's accounts that failed"),
    threshold("typo_minutes", 30, "a success this soon after a failure makes it a typo"),
    threshold("followup_hours", 72, "how long after the campaign a success still counts"),
    threshold("population_hours", 168, "the source's other users are counted this long "
              "before and after the campaign"),
)
_SPRAY_SUMMARY = (
    "Password spray from {source_kind} {source}: {guesses} between {first_seen} and "
    "{last_seen}; {failed}{typos}; {password_right}"
)


def _spray_wording(fields: Mapping[str, Any]) -> dict[str, str]:
    accounts, proven = int(fields["accounts"]), list(fields["proven"])
    typos = accounts - int(fields["unresolved"])
    # Every proven account also failed when the targets are just the failed accounts.
    among_failed = fields["n_targets"] == accounts
    if not proven:
        password_right = "no guess is known to have been right"
    elif among_failed:
        password_right = f"the password was right for {len(proven)} of them: {listing(proven)}"
    else:
        password_right = (f"the password was right for {plural(len(proven), 'account')}: "
                          f"{listing(proven)}")
    return {
        "guesses": plural(int(fields["event_count"]), "guess", "guesses"),
        "failed": plural(accounts, "account") + " failed",
        "typos": f", {typos} of them followed soon by the right password" if typos else "",
        "password_right": password_right,
    }


def _spray(rule_id: str, min_ips: int, title: str, description: str) -> Rule:
    """A spray rule; its query (sql/<rule id>.sql) names the source it groups by."""
    return Rule(
        id=rule_id, category="password-spray", severity=Severity.HIGH, title=title,
        description=description + " Escalated to critical when a targeted account then "
        "signs in, or answers with a code that shows the password was right.",
        mitre=("T1110.003",), tables=("signins",), uses=("ownerless",),
        thresholds=(*_SPRAY_THRESHOLDS,
                    threshold("min_ips", min_ips, "distinct IPs the source used")),
        summary=_SPRAY_SUMMARY, wording=_spray_wording,
    )


SPRAY_BY_IP = _spray("spray-ip", 1, "Password spray from one IP address",
                     "One IP address fails against many accounts, fast or slow.")
SPRAY_BY_NETWORK = _spray("spray-network", 2,
                          "Password spray from rotating addresses in one network",
                          "Several addresses of one /24 (IPv6: /64) fail against many accounts.")
SPRAY_BY_USER_AGENT = _spray("spray-user-agent", 3,
                             "Password spray with one user agent across IPs",
                             "One user agent, from several IPs, fails against many accounts.")

BRUTE_FORCE = Rule(
    id="brute-force-account", category="brute-force", severity=Severity.MEDIUM,
    title="Many failed sign-ins against one account",
    description="Failed password guesses against one account in a burst (no pause longer "
    "than max_gap_minutes). A few typos followed by the right password stay below the "
    "threshold. High when the account is ownerless; critical when a guess then succeeds.",
    mitre=("T1110.001",), tables=("signins",), uses=("ownerless",),
    thresholds=(
        threshold("min_failures", 10, "failed guesses in one burst"),
        threshold("max_gap_minutes", 60, "longest pause inside one burst"),
        threshold("followup_minutes", 60, "how long after the burst a success counts"),
    ),
    summary="{failed_sign_ins} against {target} between {first_seen} and {last_seen}"
            "{then_succeeded}",
    wording=lambda fields: {
        "failed_sign_ins": plural(int(fields["failures"]), "failed sign-in"),
        "then_succeeded": "; a sign-in from the same source then succeeded"
                          if fields["succeeded"] else ""},
)

LOCKOUT = Rule(
    id="account-lockout", category="brute-force", severity=Severity.MEDIUM,
    title="Account locked by smart lockout",
    description="Entra answered 50053 (account locked): someone kept guessing the password. "
    "High when the account is ownerless.",
    mitre=("T1110",), tables=("signins",), uses=("ownerless",),
    summary="{target} was locked out {times} on {window_day} by repeated failed sign-ins",
    wording=lambda fields: {"times": plural(int(fields["lockouts"]), "time")},
)

RULES: tuple[Rule, ...] = (SPRAY_BY_IP, SPRAY_BY_NETWORK, SPRAY_BY_USER_AGENT, BRUTE_FORCE,
                           LOCKOUT)
