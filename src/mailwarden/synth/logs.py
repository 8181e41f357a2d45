"""Labelled logs for a synthetic tenant: `logs/signIns.json`, `logs/directoryAudits.json`,
`logs/ual.json` (JSON Lines, Microsoft's shapes) and `labels.json`, the ground truth of
what detection must find and what it must not.

Benign background (logs_background) and attacks (logs_attacks, logs_changes) use the
tenant's own people, mailboxes, grants, rules and settings, from a random stream of
their own, so writing logs never changes the rest of the recorded tenant.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mailwarden.files import make_private_dirs, write_private_text
from mailwarden.schemas import LABELS_SCHEMA
from mailwarden.synth import logs_attacks as attacks
from mailwarden.synth import logs_background as background
from mailwarden.synth import logs_changes as changes
from mailwarden.synth import logs_usage as usage
from mailwarden.synth.constants import BROAD_GROUP_MIN_MEMBERS, BROAD_PRINCIPALS, MAX_DELEGATES
from mailwarden.synth.ids import graph_date
from mailwarden.synth.logs_book import Label, LogBook
from mailwarden.synth.model import Account, Tenant
from mailwarden.synth.truth_mailbox import MailboxJudge
from mailwarden.synth.truth_usage import dormant_truth
from mailwarden.tenant.logs import LogKind
from mailwarden.tenant.recorded import write_json_lines

LOG_FILES = {"signins": "logs/signIns.json", "directory_audits": "logs/directoryAudits.json",
             "ual": "logs/ual.json"}


@dataclass(frozen=True, slots=True, kw_only=True)
class SyntheticLogs:
    signins: tuple[dict[str, Any], ...]
    directory_audits: tuple[dict[str, Any], ...]
    ual: tuple[dict[str, Any], ...]
    labels: dict[str, Any]
    #: planted.json's "dormant" part: the truth of `dormant-delegate` (synth.truth_usage).
    dormant: dict[str, Any] = field(default_factory=dict)

    def by_kind(self) -> dict[LogKind, tuple[dict[str, Any], ...]]:
        """The records under the names the emulator serves them by."""
        return {"signIns": self.signins, "directoryAudits": self.directory_audits,
                "ual": self.ual}


def _leaver(book: LogBook) -> Account | None:
    """Someone who left inside the window, early enough to come back a few days later."""
    leavers = sorted((a for a in book.of_kind("leaver") if a.left_at is not None),
                     key=lambda a: (a.left_at, a.upn))
    inside = [a for a in leavers if a.left_at and book.start < a.left_at
              and a.left_at < book.end - (book.end - book.start) / 6]
    earlier = [a for a in leavers if a.left_at and a.left_at <= book.start]
    return inside[0] if inside else (earlier[-1] if earlier else None)


def _no_grant_reader(book: LogBook, taken: set[str]) -> tuple[Account, Account] | None:
    """A shared mailbox granted only to named people, and a member who is not one."""
    for box in book.tenant.ownerless:
        mailbox = book.accounts[box.account_id]
        if mailbox.kind != "shared" or mailbox.id in taken or any(
                g.principal_kind != "user" for g in box.grants):
            continue
        granted = {g.principal for g in box.grants}
        person = next((p for p in book.members if p.id not in granted), None)
        if person:
            return mailbox, person
    return None


def _scenarios(book: LogBook) -> set[str]:
    """Play every attack; returns the account ids they used as targets."""
    attacks.fast_spray(book)
    attacks.slow_spray(book)
    attacks.rotating_spray(book)
    enabled = [a for a in book.ownerless("shared", "room", "equipment") if a.enabled]
    shared = [a for a in enabled if a.kind == "shared"] or enabled or book.ownerless("shared")
    taken: set[str] = set()
    person = _leaver(book)
    if person and shared:
        attacks.leaver(book, person, shared[0])
        taken |= {person.id, shared[0].id}
    victims = [a for a in enabled if a.id not in taken] or book.members
    attacks.brute_force(book, victims[0])
    taken.add(victims[0].id)
    attacks.leaver_kept_grant(book, taken)
    reader = _no_grant_reader(book, taken)
    if reader:
        attacks.non_owner(book, *reader)
    delegate_of = {box.account_id: book.accounts[min(ids)] for box in book.tenant.ownerless
                   if (ids := background.direct_delegates(book, box))}
    changes.inbox_rules(book, delegate_of)
    changes.forwarding(book)
    changes.grants(book, delegate_of)
    changes.auditing(book)
    changes.unblock(book, enabled[-1] if enabled else book.ownerless("shared")[0])
    if not any(label.category == "password-reset" for label in book.expected):
        # The recorded tenant shows no reset inside the window: play one all the same.
        changes.password_reset(book, (shared or book.ownerless("shared"))[-1])
    return taken


def _labels(book: LogBook, size: str | int, seed: int) -> dict[str, Any]:
    expected = list(dict.fromkeys(book.expected))

    def contradicted(negative: Label) -> bool:
        return any(e.category == negative.category and (
            (e.target is not None and e.target == negative.target)
            or (negative.target is None and set(e.source_ips) & set(negative.source_ips)))
            for e in expected)

    negatives = [n for n in dict.fromkeys(book.negatives) if not contradicted(n)]
    # Incident ids in order of first appearance: "incident-01", ...
    numbers: dict[str, int] = {}
    for label in expected:
        numbers.setdefault(label.incident, len(numbers) + 1)
    width = max(2, len(str(len(numbers))))
    return {
        "schema": LABELS_SCHEMA, "size": size, "seed": seed,
        "window": {"start": graph_date(book.start), "end": graph_date(book.end)},
        "expected": [{**label.as_dict(),
                      "incident": f"incident-{numbers[label.incident]:0{width}d}"}
                     for label in expected],
        "negatives": [{k: v for k, v in label.as_dict().items() if k != "incident"}
                      for label in negatives],
    }


def synthetic_logs(tenant: Tenant, *, size: str | int, seed: int) -> SyntheticLogs:
    book = LogBook(tenant, seed)
    background.staff_sign_ins(book)
    background.guest_sign_ins(book)
    background.integration_sign_ins(book)
    background.recorded_activity(book)
    background.delegate_access(book)
    background.calendar_processing(book)
    background.admin_routine(book)
    taken = _scenarios(book)
    background.stale_devices(book, taken)
    usage.usage_history(book, {box.account_id: background.direct_delegates(book, box)
                               for box in tenant.ownerless}, seed)
    return SyntheticLogs(
        signins=tuple(sorted(book.signins, key=lambda r: r["createdDateTime"])),
        directory_audits=tuple(sorted(book.audits, key=lambda r: r["activityDateTime"])),
        ual=tuple(sorted(book.ual, key=lambda r: r["CreationTime"])),
        labels=_labels(book, size, seed),
        dormant=dormant_truth(tenant, book.ual, MailboxJudge(
            tenant, broad_group_min=BROAD_GROUP_MIN_MEMBERS, max_delegates=MAX_DELEGATES,
            broad_principals=BROAD_PRINCIPALS)),
    )


def write_logs(logs: SyntheticLogs, out_dir: Path) -> None:
    """logs/*.json as JSON Lines and labels.json, each file 0600."""
    make_private_dirs(out_dir / "logs")
    for name, rows in (("signins", logs.signins), ("directory_audits", logs.directory_audits),
                       ("ual", logs.ual)):
        write_json_lines(out_dir / LOG_FILES[name], rows)
    write_private_text(out_dir / "labels.json",
                       json.dumps(logs.labels, indent=1, ensure_ascii=False) + "\n")
