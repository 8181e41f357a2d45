"""The evidence of the findings remediation acts on, as typed values.

A check writes such evidence with `as_evidence()`, which gives the keys findings.json has
always carried (SPEC section 8); the remediation planner reads it back with `evidence_of`,
from a finding made in this process or one read from a findings.json, whose tuples have
become lists. Only what some consumer needs is parsed; extra keys are left alone.

`evidence_of` raises `EvidenceError`, naming the check, the mailbox and the key, when the
evidence lacks what is needed or holds it in another shape: a planner never guesses from
an evidence it cannot read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, Self, TypeVar

from mailwarden.model.findings.results import Finding


class EvidenceError(ValueError):
    """A finding's evidence lacks what a consumer needs (or holds it in another shape)."""

    def __init__(self, finding: Finding, key: str, expected: str) -> None:
        where = finding.resource.upn or "the tenant"
        super().__init__(
            f"the {finding.check_id} finding of {where} has no usable evidence {key!r} "
            f"(expected {expected}); it was not written by this version's check, so scan "
            "the tenant again and plan from the new findings"
        )
        self.check_id = finding.check_id
        self.upn = finding.resource.upn
        self.key = key


class _Unusable(Exception):
    """Raised inside a parser; `evidence_of` turns it into an `EvidenceError`."""

    def __init__(self, key: str, expected: str) -> None:
        super().__init__(key)
        self.key = key
        self.expected = expected


def _items(data: Mapping[str, Any], key: str, expected: str) -> Sequence[Any]:
    value = data.get(key)
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise _Unusable(key, expected)
    return value


def _record(value: Any, key: str, expected: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _Unusable(key, expected)
    return value


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise _Unusable(key, "a string")
    return value


def _optional_text(data: Mapping[str, Any], key: str) -> str | None:
    return None if data.get(key) is None else _text(data, key)


def _texts(data: Mapping[str, Any], key: str, *, required: bool = True) -> tuple[str, ...]:
    if key not in data and not required:
        return ()
    values = _items(data, key, "a list of strings")
    if not all(isinstance(v, str) for v in values):
        raise _Unusable(key, "a list of strings")
    return tuple(values)


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditGap:
    """One audit list and the actions it lacks."""

    audit_list: str  # "AuditOwner", "AuditDelegate" or "AuditAdmin"
    actions: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class MissingAuditActions:
    """audit-actions-missing: what each audit list lacks."""

    CHECK_ID: ClassVar[str] = "audit-actions-missing"
    gaps: tuple[AuditGap, ...]

    def as_evidence(self) -> dict[str, Any]:
        return {"missing": {g.audit_list: list(g.actions) for g in self.gaps}}

    @classmethod
    def parse(cls, evidence: Mapping[str, Any]) -> Self:
        expected = "a mapping of audit list to the actions it lacks"
        missing = _record(evidence.get("missing"), "missing", expected)
        gaps = []
        for name in missing:
            actions = _texts(missing, name)
            gaps.append(AuditGap(audit_list=str(name), actions=actions))
        return cls(gaps=tuple(gaps))


@dataclass(frozen=True, slots=True, kw_only=True)
class StaleDelegate:
    """A person who holds access to the mailbox but should not any more."""

    upn: str
    reasons: tuple[str, ...]  # "disabled", "guest", ...
    rights: tuple[str, ...]
    via: tuple[str, ...]  # "direct", or the groups that grant the access

    @property
    def direct(self) -> bool:
        return "direct" in self.via


@dataclass(frozen=True, slots=True, kw_only=True)
class StaleDelegates:
    """stale-delegate: the people, and the trustees of grants to deleted objects."""

    CHECK_ID: ClassVar[str] = "stale-delegate"
    stale: tuple[StaleDelegate, ...]
    orphaned: tuple[str, ...]

    def as_evidence(self) -> dict[str, Any]:
        people = [
            {"upn": p.upn, "reasons": list(p.reasons), "rights": list(p.rights),
             "via": list(p.via)}
            for p in self.stale
        ]
        return {"stale": people, "orphaned": list(self.orphaned)}

    @classmethod
    def parse(cls, evidence: Mapping[str, Any]) -> Self:
        expected = "a list of people with their upn and how they hold access (via)"
        people = []
        for item in _items(evidence, "stale", expected):
            person = _record(item, "stale", expected)
            people.append(
                StaleDelegate(
                    upn=_text(person, "upn"),
                    reasons=_texts(person, "reasons", required=False),
                    rights=_texts(person, "rights", required=False),
                    via=_texts(person, "via"),
                )
            )
        return cls(stale=tuple(people), orphaned=_texts(evidence, "orphaned", required=False))


@dataclass(frozen=True, slots=True, kw_only=True)
class DormantGrant:
    """One grant unused for the whole window: its right, its trustee as Exchange wrote it,
    and its last use on record (ISO, or None when none is)."""

    right: str
    trustee: str
    name: str | None = None
    last_used: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DormantGrants:
    """dormant-delegate: the grants unused for `window_days` days."""

    CHECK_ID: ClassVar[str] = "dormant-delegate"
    dormant: tuple[DormantGrant, ...]
    window_days: int

    def as_evidence(self) -> dict[str, Any]:
        return {
            "window_days": self.window_days,
            "dormant": [{"right": g.right, "trustee": g.trustee, "name": g.name,
                         "last_used": g.last_used} for g in self.dormant],
        }

    @classmethod
    def parse(cls, evidence: Mapping[str, Any]) -> Self:
        expected = "a list of grants with their right and trustee"
        grants = []
        for item in _items(evidence, "dormant", expected):
            grant = _record(item, "dormant", expected)
            grants.append(DormantGrant(right=_text(grant, "right"),
                                       trustee=_text(grant, "trustee"),
                                       name=_optional_text(grant, "name"),
                                       last_used=_optional_text(grant, "last_used")))
        days = evidence.get("window_days")
        if not isinstance(days, int) or isinstance(days, bool):
            raise _Unusable("window_days", "a number of days")
        return cls(dormant=tuple(grants), window_days=days)


@dataclass(frozen=True, slots=True, kw_only=True)
class ForwardedTo:
    """Where mail leaves the organisation: `where` is the mailbox parameter
    (ForwardingSmtpAddress, ForwardingAddress) or "inbox rule '<name>'"; `via` the
    recipient the target resolved to (e.g. "mail contact 'Fabrikam'"), `rule` the inbox
    rule's identity."""

    where: str
    address: str
    via: str | None = None
    rule: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class UnresolvedTarget:
    """A forwarding target that could not be shown to stay inside, and why."""

    where: str
    target: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ExternalForwarding:
    """external-forwarding: the forwarding outside the organisation, and the mailbox's
    forwarding settings as collected."""

    CHECK_ID: ClassVar[str] = "external-forwarding"
    external: tuple[ForwardedTo, ...]
    forwarding_smtp_address: str | None = None
    forwarding_address: str | None = None
    deliver_to_mailbox_and_forward: bool | None = None
    unresolved_forwarding_address: tuple[str, ...] = ()
    unresolved: tuple[UnresolvedTarget, ...] = ()

    def as_evidence(self) -> dict[str, Any]:
        evidence: dict[str, Any] = {
            "external": [_forwarded(e) for e in self.external],
            "forwarding_smtp_address": self.forwarding_smtp_address,
            "forwarding_address": self.forwarding_address,
            "deliver_to_mailbox_and_forward": self.deliver_to_mailbox_and_forward,
        }
        if self.unresolved_forwarding_address:
            evidence["unresolved_forwarding_address"] = list(self.unresolved_forwarding_address)
        if self.unresolved:
            evidence["unresolved"] = [
                {"where": u.where, "target": u.target, "reason": u.reason} for u in self.unresolved
            ]
        return evidence

    @classmethod
    def parse(cls, evidence: Mapping[str, Any]) -> Self:
        expected = "a list of where mail is forwarded (where, address)"
        external = []
        for item in _items(evidence, "external", expected):
            target = _record(item, "external", expected)
            external.append(
                ForwardedTo(
                    where=_text(target, "where"),
                    address=_text(target, "address"),
                    via=_optional_text(target, "via"),
                    rule=_optional_text(target, "rule"),
                )
            )
        deliver = evidence.get("deliver_to_mailbox_and_forward")
        return cls(
            external=tuple(external),
            forwarding_smtp_address=_optional_text(evidence, "forwarding_smtp_address"),
            forwarding_address=_optional_text(evidence, "forwarding_address"),
            deliver_to_mailbox_and_forward=deliver if isinstance(deliver, bool) else None,
            unresolved_forwarding_address=_texts(
                evidence, "unresolved_forwarding_address", required=False
            ),
        )


def _forwarded(item: ForwardedTo) -> dict[str, Any]:
    found: dict[str, Any] = {"where": item.where, "address": item.address}
    if item.via is not None:
        found["via"] = item.via
    if item.rule is not None:
        found["rule"] = item.rule
    return found


@dataclass(frozen=True, slots=True, kw_only=True)
class HidingRule:
    """An enabled inbox rule that hides what arrives."""

    name: str | None
    identity: str | None  # as Get-InboxRule wrote it; None when Exchange gave none
    actions: tuple[str, ...]  # "deletes", "marks as read", "moves to '...'"
    description: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class HidingInboxRules:
    """hiding-inbox-rule (failing): the rules that hide mail."""

    CHECK_ID: ClassVar[str] = "hiding-inbox-rule"
    rules: tuple[HidingRule, ...]

    def as_evidence(self) -> dict[str, Any]:
        rules = [
            {"rule": r.name, "identity": r.identity, "actions": list(r.actions),
             "description": r.description}
            for r in self.rules
        ]
        return {"rules": rules}

    @classmethod
    def parse(cls, evidence: Mapping[str, Any]) -> Self:
        expected = "a list of rules with their identity"
        rules = []
        for item in _items(evidence, "rules", expected):
            rule = _record(item, "rules", expected)
            if "identity" not in rule:
                raise _Unusable("identity", "the identity of each rule (null when unknown)")
            rules.append(
                HidingRule(
                    name=_optional_text(rule, "rule"),
                    identity=_optional_text(rule, "identity"),
                    actions=_texts(rule, "actions", required=False),
                    description=_optional_text(rule, "description"),
                )
            )
        return cls(rules=tuple(rules))


class TypedEvidence(Protocol):
    """The evidence of one check: written by it with `as_evidence`, read with `parse`."""

    CHECK_ID: ClassVar[str]

    def as_evidence(self) -> dict[str, Any]: ...

    @classmethod
    def parse(cls, evidence: Mapping[str, Any]) -> Self: ...


E = TypeVar("E", bound=TypedEvidence)


def evidence_of(finding: Finding, kind: type[E]) -> E:
    """The evidence of `finding` as `kind`, or an `EvidenceError` saying what is lacking."""
    if finding.check_id != kind.CHECK_ID:  # a bug in the caller, not in the evidence
        raise ValueError(f"a {finding.check_id} finding has no {kind.__name__} evidence")
    try:
        return kind.parse(finding.evidence)
    except _Unusable as exc:
        raise EvidenceError(finding, exc.key, exc.expected) from None
