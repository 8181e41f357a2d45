"""Smart lockout: how many wrong passwords an attacker gets, and how fast they come back."""

from __future__ import annotations

from mailwarden.assess.checks.base import Check, Verdict, errored, failed, passed, quoted
from mailwarden.assess.facts import Context
from mailwarden.model.controls import mapped
from mailwarden.model.findings import CheckInfo, Remediation, Scope, Severity
from mailwarden.text import plural

PASSWORD_RULES_TEMPLATE = "5cf42378-d67d-4f36-ba46-e8b86229381d"
DEFAULT_THRESHOLD = 10
DEFAULT_DURATION = 60

WEAK_LOCKOUT = CheckInfo(
    id="weak-smart-lockout",
    title="Smart lockout lets password spray run faster than Microsoft's defaults",
    severity=Severity.MEDIUM,
    scope=Scope.TENANT,
    passes="Smart lockout locks after at most 10 failures, for at least 60 seconds (the "
    "defaults apply when the tenant has no 'Password Rule Settings').",
    fails="LockoutThreshold is above 10 or LockoutDurationInSeconds is under 60.",
    needs=("graph/settings",),
    # CIS M365 v6.0.0 has no lockout recommendation (v7.0.0 adds 5.2.3.8 and 5.2.3.9).
    controls=mapped("MITRE ATT&CK T1110.003"),
    remediation=Remediation(
        summary="Set the lockout threshold to 10 or fewer and the duration to 60 seconds or "
        "more (Entra admin center: Authentication methods > Password protection).",
        powershell=(
            "Update-MgBetaDirectorySetting -DirectorySettingId '<setting-id>' -Values "
            "@(@{Name = 'LockoutThreshold'; Value = '10'}, "
            "@{Name = 'LockoutDurationInSeconds'; Value = '60'})",
        ),
        graph=(
            'PATCH https://graph.microsoft.com/beta/settings/<setting-id> {"values": '
            '[{"name": "LockoutThreshold", "value": "10"}, '
            '{"name": "LockoutDurationInSeconds", "value": "60"}]}',
        ),
        note="A directorySetting's values are replaced as a whole: send every value it holds.",
    ),
    risk="Each extra attempt per lockout window multiplies how many passwords a spray can try "
    "against every ownerless account.",
)


def _number(value: str | None, default: int) -> int | None:
    if value is None or not value.strip():
        return default
    try:
        return int(value.strip())
    except ValueError:
        return None


def weak_lockout(context: Context) -> Verdict:
    settings = [
        s
        for s in context.snapshot.directory_settings
        if (s.template_id or "").lower() == PASSWORD_RULES_TEMPLATE
        or (s.display_name or "").lower() == "password rule settings"
    ]
    if not settings:
        return passed(
            "Smart lockout uses Microsoft's defaults (10 failures, 60 seconds).",
            lockout_threshold=DEFAULT_THRESHOLD,
            lockout_duration_seconds=DEFAULT_DURATION,
            source="default",
        )
    setting = settings[0]
    threshold = _number(setting.value("LockoutThreshold"), DEFAULT_THRESHOLD)
    duration = _number(setting.value("LockoutDurationInSeconds"), DEFAULT_DURATION)
    if threshold is None or duration is None:
        return errored(
            "The smart lockout settings cannot be read as numbers.",
            lockout_threshold=setting.value("LockoutThreshold"),
            lockout_duration_seconds=setting.value("LockoutDurationInSeconds"),
        )
    evidence = {
        "lockout_threshold": threshold,
        "lockout_duration_seconds": duration,
        "setting_id": setting.id,
    }
    options = context.options
    weak = []
    if threshold > options.lockout_threshold_max:
        weak.append(f"LockoutThreshold {threshold} (above {options.lockout_threshold_max})")
    if duration < options.lockout_duration_min_seconds:
        weak.append(
            f"LockoutDurationInSeconds {duration} (under {options.lockout_duration_min_seconds})"
        )
    if weak:
        exact = (
            f"Update-MgBetaDirectorySetting -DirectorySettingId {quoted(setting.id)} -Values "
            "@(@{Name = 'LockoutThreshold'; Value = '10'}, "
            "@{Name = 'LockoutDurationInSeconds'; Value = '60'})"
        )
        return failed(
            f"Smart lockout is weaker than the defaults: {'; '.join(weak)}.",
            evidence,
            commands=(exact,),
        )
    return passed(
        f"Smart lockout locks after {plural(threshold, 'failure')} for "
        f"{plural(duration, 'second')}.",
        evidence,
    )


CHECKS = (Check(info=WEAK_LOCKOUT, tenant=weak_lockout),)
