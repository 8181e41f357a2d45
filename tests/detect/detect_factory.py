"""Small builders of log records and files for the detection tests."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from mailwarden.detect import DetectContext, DetectionResult, detect_files

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DOMAIN = "contoso.example"


def at(minutes: float = 0, *, hours: float = 0, days: float = 0) -> datetime:
    return T0 + timedelta(minutes=minutes, hours=hours, days=days)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def upn(name: str) -> str:
    return f"{name}@{DOMAIN}"


def signin(when: datetime, user: str, ip: str, code: int = 0, *, client: str = "Browser",
           agent: str = "Mozilla/5.0 (Windows NT 10.0) Edge/120", device: str = "",
           interactive: bool = True) -> dict[str, Any]:
    """A Graph signIn object (beta shape, which carries userAgent)."""
    return {
        "id": f"{user}-{ip}-{when.timestamp()}-{code}", "createdDateTime": iso(when),
        "userPrincipalName": user if "@" in user else upn(user), "userId": f"id-{user}",
        "appDisplayName": "Office 365 Exchange Online", "clientAppUsed": client,
        "ipAddress": ip, "userAgent": agent, "isInteractive": interactive,
        "status": {"errorCode": code, "failureReason": "" if code == 0 else f"code {code}"},
        "conditionalAccessStatus": "notApplied", "location": {"countryOrRegion": "NL"},
        "deviceDetail": {"deviceId": device},
    }


def ual(when: datetime, operation: str, actor: str, *, mailbox: str | None = None,
        ip: str = "198.51.100.7", logon: int = 2, client: str = "Client=OWA;",
        parameters: Sequence[tuple[str, str]] = (), **extra: Any) -> dict[str, Any]:
    """A Unified Audit Log record (AuditData shape)."""
    record: dict[str, Any] = {
        "CreationTime": iso(when).rstrip("Z"), "Id": f"{operation}-{actor}-{when.timestamp()}",
        "Operation": operation, "RecordType": 1 if "-" in operation else 2,
        "Workload": "Exchange", "UserId": actor, "ClientIP": ip, "ClientInfoString": client,
        "LogonType": logon, "ResultStatus": "Succeeded",
        "Parameters": [{"Name": name, "Value": value} for name, value in parameters],
    }
    if mailbox:
        record["MailboxOwnerUPN"] = mailbox
    record.update(extra)
    return record


def audit(when: datetime, activity: str, target: str, *, by: str = "admin@contoso.example",
          properties: Sequence[tuple[str, str, str]] = ()) -> dict[str, Any]:
    """A Graph directoryAudit object."""
    return {
        "id": f"{activity}-{target}-{when.timestamp()}", "activityDateTime": iso(when),
        "activityDisplayName": activity, "category": "UserManagement", "result": "success",
        "loggedByService": "Core Directory",
        "initiatedBy": {"user": {"userPrincipalName": by, "id": "id-admin",
                                 "ipAddress": "203.0.113.50"}},
        "targetResources": [{"id": f"id-{target}", "type": "User", "userPrincipalName": target,
                             "modifiedProperties": [
                                 {"displayName": n, "oldValue": o, "newValue": v}
                                 for n, o, v in properties]}],
    }


def write_jsonl(path: Path, records: Iterable[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def run(tmp_path: Path, context: DetectContext, *, signins: Sequence[dict[str, Any]] = (),
        mailbox: Sequence[dict[str, Any]] = (), directory: Sequence[dict[str, Any]] = (),
        **options: Any) -> DetectionResult:
    from mailwarden.detect import DetectOptions

    paths = []
    for name, records in (("signins", signins), ("ual", mailbox), ("audits", directory)):
        if records:
            paths.append(write_jsonl(tmp_path / f"{name}.jsonl", records))
    return detect_files(paths, context, options=DetectOptions(**options))


def alerts_of(result: DetectionResult, rule_id: str) -> list[Any]:
    return [alert for alert in result.alerts if alert.rule_id == rule_id]
