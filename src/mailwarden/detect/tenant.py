"""Detection over a recorded tenant: its `logs/` folder, read with what the snapshot knows.

`context_from_scan` turns a snapshot and its assessment (inventory and access map) into
the rules' `DetectContext`; `detect_directory` runs detection over `DIR/logs/` (and any
extra files) with that context. Both are pure of printing; the CLI and the pipeline
call them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from mailwarden.detect.context import (
    DepartedAccount,
    DetectContext,
    GuestAccount,
    MailboxGrant,
    OwnerlessAccount,
    OwnerlessKind,
)
from mailwarden.detect.results import DetectionResult
from mailwarden.detect.run import DetectOptions, detect_files
from mailwarden.model.findings import MailboxKind, ScanResult
from mailwarden.model.inventory import Account, Mailbox, Snapshot
from mailwarden.progress import Progress

#: The recorded tenant's log files (SPEC section 4), in the order they are read.
LOG_NAMES = ("signIns", "directoryAudits", "ual")
LOGS_DIR = "logs"

_GRANT_RIGHTS = frozenset({"FullAccess", "SendAs", "SendOnBehalf"})
#: Mailbox kinds whose backing account is never a person who could leave.
_RESOURCE_KINDS = frozenset({MailboxKind.SHARED, MailboxKind.ROOM, MailboxKind.EQUIPMENT,
                             MailboxKind.SCHEDULING})


def log_files(tenant_dir: Path) -> tuple[Path, ...]:
    """The files under `DIR/logs/`: the SPEC names first (any .json/.jsonl/.gz
    spelling), then every other file, sorted. The format is sniffed from content."""
    folder = tenant_dir / LOGS_DIR
    if not folder.is_dir():
        return ()
    files = sorted(path for path in folder.iterdir()
                   if path.is_file() and not path.name.startswith("."))

    def order(path: Path) -> tuple[int, str]:
        stem = path.name.split(".")[0]
        return (LOG_NAMES.index(stem) if stem in LOG_NAMES else len(LOG_NAMES), path.name)

    return tuple(sorted(files, key=order))


def _mailbox_names(mailbox: Mailbox) -> tuple[str, ...]:
    names = [mailbox.alias, mailbox.name, mailbox.primary_smtp_address, mailbox.identity,
             mailbox.display_name, mailbox.guid, mailbox.external_directory_object_id]
    names += [address.split(":", 1)[-1] for address in mailbox.email_addresses]
    return tuple(dict.fromkeys(name.lower() for name in names if name))


def _ownerless(snapshot: Snapshot, result: ScanResult) -> tuple[OwnerlessAccount, ...]:
    by_upn: dict[str, Mailbox] = {}
    for mailbox in snapshot.mailboxes:
        for key in (mailbox.user_principal_name, mailbox.primary_smtp_address):
            if key:
                by_upn.setdefault(key.lower(), mailbox)
    found = []
    for entry in result.inventory:
        match = by_upn.get(entry.upn.lower())
        kind: OwnerlessKind = entry.kind.value  # type: ignore[assignment]
        found.append(OwnerlessAccount(
            upn=entry.upn.lower(), id=entry.account_id, kind=kind,
            aliases=_mailbox_names(match) if match else ()))
    return tuple(found)


def _departed(snapshot: Snapshot, resource_upns: set[str]) -> tuple[DepartedAccount, ...]:
    """People who left: a leave date, or a disabled member account that backs no shared
    or resource mailbox (those accounts are disabled by design)."""
    def left(account: Account) -> bool:
        if account.user_type == "Guest" or account.user_principal_name.lower() in resource_upns:
            return False
        return account.leave_date is not None or account.account_enabled is False

    return tuple(DepartedAccount(upn=a.user_principal_name.lower(), id=a.id, since=a.leave_date)
                 for a in snapshot.accounts if left(a))


def _grants(result: ScanResult) -> tuple[MailboxGrant, ...]:
    return tuple(
        MailboxGrant(mailbox=access.upn.lower(), trustee=person.upn.lower(),
                     right=right)  # type: ignore[arg-type]
        for access in result.access for person in access.people
        for right in person.rights if right in _GRANT_RIGHTS)


def context_from_scan(snapshot: Snapshot, result: ScanResult) -> DetectContext:
    """What the rules know about the tenant. A part whose sources were not read is None
    (unknown), so the rules that need it say so instead of judging without it."""
    has_users = snapshot.available("graph/users") and bool(snapshot.accounts)
    listed = snapshot.available("exo/Get-Mailbox")
    # Without Get-Mailbox, the assessment still knows the ownerless mailboxes other sources
    # name (assess.fallback): the rules run on those and say they ran in part.
    has_mailboxes = listed or bool(result.inventory)
    has_grants = has_mailboxes and all(snapshot.available(source) for source in (
        "exo/Get-MailboxPermission", "exo/Get-RecipientPermission"))
    resource_upns = {e.upn.lower() for e in result.inventory if e.kind in _RESOURCE_KINDS}
    unreadable = snapshot.tenant.why_unreadable("graph/users.employeeLeaveDateTime")
    partial: tuple[tuple[str, str], ...] = (("departed", "leave dates could not be read "
                f"({unreadable}), so only disabled accounts count as departed"),) \
        if unreadable and has_users else ()
    if has_mailboxes and not listed:
        partial += (("ownerless", "Get-Mailbox was not read, so the ownerless accounts are "
                     "those the other sources name; one none of them names is missed"),)
    return DetectContext(
        ownerless=_ownerless(snapshot, result) if has_mailboxes else None,
        departed=_departed(snapshot, resource_upns) if has_users else None,
        guests=tuple(GuestAccount(upn=a.user_principal_name.lower(), id=a.id)
                     for a in snapshot.accounts if a.user_type == "Guest") if has_users else None,
        verified_domains=snapshot.tenant.verified_domains or None,
        grants=_grants(result) if has_grants else None,
        partial=partial,
    )


def detect_directory(tenant_dir: Path, context: DetectContext, *,
                     extra_files: Sequence[Path] = (), options: DetectOptions | None = None,
                     progress: Progress | None = None) -> DetectionResult:
    """Detection over `tenant_dir/logs/` plus `extra_files`, with the tenant's context."""
    return detect_files([*log_files(tenant_dir), *extra_files], context, options=options,
                        progress=progress)
