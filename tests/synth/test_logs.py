"""The labelled logs a synthetic tenant is written with: shapes, consistency with the
tenant, every category labelled, determinism, and nothing else of the tenant changed."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from mailwarden.schemas import LABELS_SCHEMA
from mailwarden.synth import SyntheticTenant, generate
from mailwarden.synth.logs import SyntheticLogs, synthetic_logs

CATEGORIES = {
    "password-spray", "brute-force", "ownerless-sign-in", "legacy-protocol-auth",
    "leaver-access", "malicious-inbox-rule", "external-forwarding-set",
    "mailbox-permission-change", "non-owner-access", "mass-send", "password-reset",
    "sign-in-unblocked", "audit-tampering",
}


@pytest.fixture(scope="module")
def logs(small: SyntheticTenant) -> SyntheticLogs:
    assert small.model is not None
    return synthetic_logs(small.model, size=small.size, seed=small.seed)


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_files_are_json_lines_in_microsoft_shapes(small_dir: Path) -> None:
    signins = _lines(small_dir / "logs" / "signIns.json")
    audits = _lines(small_dir / "logs" / "directoryAudits.json")
    ual = _lines(small_dir / "logs" / "ual.json")
    assert len(signins) > 2_000 and audits and len(ual) > 500
    assert {"createdDateTime", "userPrincipalName", "ipAddress", "clientAppUsed",
            "status", "isInteractive"} <= set(signins[0])
    assert {"activityDateTime", "activityDisplayName", "initiatedBy",
            "targetResources"} <= set(audits[0])
    assert {"CreationTime", "Operation", "RecordType", "Workload", "UserId"} <= set(ual[0])
    assert signins == sorted(signins, key=lambda r: r["createdDateTime"])


def test_labels_cover_every_category(small_dir: Path) -> None:
    labels = json.loads((small_dir / "labels.json").read_text(encoding="utf-8"))
    assert labels["schema"] == LABELS_SCHEMA and labels["seed"] == 0
    assert {label["category"] for label in labels["expected"]} == CATEGORIES
    scenarios = {label["scenario"] for label in labels["expected"]}
    assert {"fast spray", "low-and-slow spray", "rotating-IP spray",
            "brute force with lockouts", "malicious inbox rule", "permission grant to a guest",
            "admin password reset", "sign-in unblocked"} <= scenarios
    assert any(s.startswith("leaver ") for s in scenarios)
    negatives = {label["scenario"] for label in labels["negatives"]}
    assert {"office NAT", "typos then success", "delegates' normal access",
            "room calendar processing"} <= negatives


def test_labels_name_the_incident_each_belongs_to(small_dir: Path) -> None:
    labels = json.loads((small_dir / "labels.json").read_text(encoding="utf-8"))
    expected = labels["expected"]
    assert all(re.fullmatch(r"incident-\d{2,}", label["incident"]) for label in expected)
    by_incident: dict[str, list[dict[str, Any]]] = {}
    for label in expected:
        by_incident.setdefault(label["incident"], []).append(label)
    # A spray and the mailboxes it reached are one attack; so is the leaver's evening.
    (spray,) = [ls for ls in by_incident.values()
                if any(lb["scenario"] == "fast spray" for lb in ls)]
    assert {lb["category"] for lb in spray} == {"password-spray", "legacy-protocol-auth"}
    (leaver,) = [ls for ls in by_incident.values()
                 if any(lb["scenario"].startswith("leaver ") for lb in ls)]
    assert {lb["category"] for lb in leaver} == {"leaver-access", "ownerless-sign-in",
                                                "legacy-protocol-auth", "mass-send"}
    # A scenario on several mailboxes one by one is an attack on each.
    integration = [lb for lb in expected if lb["scenario"].startswith("integration")]
    assert len({lb["incident"] for lb in integration}) == len(
        {lb["target"] for lb in integration})
    assert all("incident" not in label for label in labels["negatives"])


def test_accounts_and_mailboxes_come_from_the_tenant(small: SyntheticTenant,
                                                     logs: SyntheticLogs) -> None:
    users = {u["userPrincipalName"]: u for u in small.recorded.data["graph/users"]}
    assert {r["userPrincipalName"] for r in logs.signins} <= set(users)
    assert all(r["userId"] == users[r["userPrincipalName"]]["id"] for r in logs.signins)
    mailboxes = {m["UserPrincipalName"].lower() for m in small.recorded.data["exo/Get-Mailbox"]}
    owners = {r["MailboxOwnerUPN"].lower() for r in logs.ual if "MailboxOwnerUPN" in r}
    assert owners <= mailboxes
    targets = {label["target"] for label in logs.labels["expected"] if label["target"]}
    assert targets <= {upn.lower() for upn in users}


def test_nobody_signs_in_after_leaving(small: SyntheticTenant, logs: SyntheticLogs) -> None:
    left = {u["userPrincipalName"]: u["employeeLeaveDateTime"]
            for u in small.recorded.data["graph/users"] if u.get("employeeLeaveDateTime")}
    for record in logs.signins:
        leave = left.get(record["userPrincipalName"])
        if leave and record["status"]["errorCode"] == 0:
            assert record["createdDateTime"] < leave, record


def test_office_addresses_are_shared_and_typos_are_resolved(logs: SyntheticLogs) -> None:
    people_per_ip = Counter[str]()
    for ip in {(r["ipAddress"], r["userPrincipalName"]) for r in logs.signins}:
        people_per_ip[ip[0]] += 1
    offices = [ip for ip, people in people_per_ip.items() if people >= 10]
    assert offices
    negative_ips = {ip for label in logs.labels["negatives"]
                    if label["scenario"] == "office NAT" for ip in label["source_ips"]}
    assert set(offices) - negative_ips <= {ip for label in logs.labels["expected"]
                                           for ip in label["source_ips"]}
    failures = [r for r in logs.signins if r["status"]["errorCode"] == 50126
                and r["ipAddress"] in negative_ips]
    assert failures  # the office has typists


def test_logs_are_deterministic_and_leave_the_tenant_alone(small: SyntheticTenant,
                                                          logs: SyntheticLogs) -> None:
    again = generate("small", seed=0)
    assert again.recorded.data == small.recorded.data
    assert again.planted_document() == small.planted_document()
    assert again.model is not None
    second = synthetic_logs(again.model, size="small", seed=0)
    assert second == logs
    other = synthetic_logs(again.model, size="small", seed=1)
    assert other.signins != logs.signins


def test_times_fall_inside_the_window(logs: SyntheticLogs) -> None:
    window = logs.labels["window"]
    start, end = (datetime.fromisoformat(window[k].replace("Z", "+00:00")) for k in
                  ("start", "end"))
    for record in logs.signins[:: max(1, len(logs.signins) // 500)]:
        moment = datetime.fromisoformat(record["createdDateTime"].replace("Z", "+00:00"))
        assert start <= moment < end
