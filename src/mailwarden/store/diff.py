"""Drift between two stored runs of a tenant: a pure function of their facts."""

from __future__ import annotations

from mailwarden.model.findings import Status
from mailwarden.model.run import (
    DelegateChange,
    Drift,
    FindingChange,
    FindingChangeKind,
    SettingChange,
)
from mailwarden.store.facts import FindingFact, FindingKey, StoredRun

_JUDGED_OK = (Status.PASS, Status.NOT_APPLICABLE)


def _finding_change(
    key: FindingKey, before: FindingFact | None, after: FindingFact | None,
    mailbox_gone: bool,
) -> FindingChange | None:
    was_failing = before is not None and before.status is Status.FAIL
    fails = after is not None and after.status is Status.FAIL
    if was_failing == fails:
        return None
    if fails:
        kind = FindingChangeKind.NEW if before is None else FindingChangeKind.REGRESSED
    elif after is None:
        # The check no longer reports on it: the mailbox left scope, or the check is gone.
        kind = FindingChangeKind.GONE if mailbox_gone else FindingChangeKind.UNVERIFIED
    elif after.status is Status.ACCEPTED:
        kind = FindingChangeKind.ACCEPTED  # an exception is never taken for a fix
    elif after.status in _JUDGED_OK:
        kind = FindingChangeKind.FIXED
    else:
        kind = FindingChangeKind.UNVERIFIED  # an error is never taken for a fix
    latest = after or before
    assert latest is not None
    return FindingChange(
        kind=kind, check_id=key[0], upn=key[1], severity=latest.severity,
        before=before.status if before else None, after=after.status if after else None,
        message=latest.message,
    )


def diff(before: StoredRun, after: StoredRun) -> Drift:
    """What changed from `before` to `after`."""
    removed = sorted(set(before.mailboxes) - set(after.mailboxes))
    added = sorted(set(after.mailboxes) - set(before.mailboxes))
    changes = []
    for key in sorted(set(before.findings) | set(after.findings), key=lambda k: (k[0], k[1] or "")):
        change = _finding_change(key, before.findings.get(key), after.findings.get(key),
                                 mailbox_gone=key[1] in removed)
        if change is not None:
            changes.append(change)
    delegates_added = [
        DelegateChange(mailbox=m, principal=p, right=r, via=after.delegates[(m, p, r)])
        for (m, p, r) in sorted(set(after.delegates) - set(before.delegates))
        if m not in added  # a new mailbox's delegates are part of "new mailbox"
    ]
    delegates_removed = [
        DelegateChange(mailbox=m, principal=p, right=r, via=before.delegates[(m, p, r)])
        for (m, p, r) in sorted(set(before.delegates) - set(after.delegates))
        if m not in removed
    ]
    settings = [
        SettingChange(mailbox=key[0], setting=key[1], before=before.settings.get(key),
                      after=after.settings.get(key))
        for key in sorted(set(before.settings) | set(after.settings),
                          key=lambda k: (k[0] or "", k[1]))
        if key[0] not in removed and key[0] not in added
        and before.settings.get(key) != after.settings.get(key)
    ]
    return Drift(
        before=before.ref, after=after.ref, findings=tuple(changes),
        mailboxes_added=tuple(after.mailboxes[upn] for upn in added),
        mailboxes_removed=tuple(before.mailboxes[upn] for upn in removed),
        delegates_added=tuple(delegates_added), delegates_removed=tuple(delegates_removed),
        settings_changed=tuple(settings),
    )
