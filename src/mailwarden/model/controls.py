"""The control catalogue: the benchmark controls that checks map to, with their texts' titles.

A check names its controls by reference ("CIS M365 6.0.0 1.2.2", "CISA SCuBA MS.EXO.5.1v1"),
the same strings findings.json carries in "controls"; `mapped` refuses a reference this
catalogue does not hold, so a check cannot name a control nobody looked up.

Sources, by framework (titles are the benchmarks' own):

- CIS Microsoft 365 Foundations Benchmark v6.0.0 (CIS, 2026; https://www.cisecurity.org/
  benchmark/microsoft_365). Ids and titles as the v6.0.0 audit files list them (Tenable's
  "CIS Microsoft 365 Foundations v6.0.0 L1 E5"), Maester's CIS tests (tagged CIS M365
  v6.0.1) and Prowler's `prowler/compliance/m365/cis_6.0_m365.json` (the audit procedure
  behind each id). v7.0.0 keeps these ids; it adds 5.2.3.8 and 5.2.3.9 (smart lockout
  threshold and duration), which are not mapped until this catalogue moves to v7.
- CISA SCuBA Secure Configuration Baselines, ScubaGear 1.8.0:
  `PowerShell/ScubaGear/baselines/exo.md` and `aad.md` in github.com/cisagov/ScubaGear
  (policy ids with their version suffix, and the policy statement as title).
- CIS Critical Security Controls v8 safeguards (https://www.cisecurity.org/controls/v8).
- MITRE ATT&CK techniques (https://attack.mitre.org/).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from mailwarden.model.findings.results import MailboxKind


class Framework(StrEnum):
    CIS_M365 = "cis-m365"
    SCUBA = "scuba"
    CIS_CONTROLS = "cis-controls"
    MITRE_ATTACK = "mitre-attack"

    @property
    def label(self) -> str:
        """How references and reports name the framework, with its version."""
        return _LABELS[self]


_LABELS = {
    Framework.CIS_M365: "CIS M365 6.0.0",
    Framework.SCUBA: "CISA SCuBA",
    Framework.CIS_CONTROLS: "CIS Controls v8",
    Framework.MITRE_ATTACK: "MITRE ATT&CK",
}

#: The full names of the frameworks, for report headings.
FRAMEWORK_NAMES = {
    Framework.CIS_M365: "CIS Microsoft 365 Foundations Benchmark v6.0.0",
    Framework.SCUBA: "CISA SCuBA Secure Configuration Baselines (ScubaGear 1.8.0)",
    Framework.CIS_CONTROLS: "CIS Critical Security Controls v8",
    Framework.MITRE_ATTACK: "MITRE ATT&CK",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Control:
    framework: Framework
    id: str  # "1.2.2", "MS.EXO.5.1v1", "T1564.008"
    title: str  # the benchmark's own title or policy statement
    source: str  # where the text is published
    #: The mailbox kinds the control speaks of; empty for every kind. CIS 1.2.2 is about
    #: shared mailboxes: a room account that can sign in does not fail it.
    kinds: tuple[MailboxKind, ...] = ()
    #: What the benchmark's own audit covers that the mapped checks do not ("" when they
    #: perform it): a pass means every finding mailwarden makes for the control passed.
    coverage: str = ""

    @property
    def ref(self) -> str:
        """The reference checks and findings name the control by."""
        return f"{self.framework.label} {self.id}"

    def covers(self, kind: MailboxKind | None) -> bool:
        """Whether a finding about a resource of this kind counts towards the control (a
        tenant-wide finding, kind None, always does)."""
        return not self.kinds or kind is None or kind in self.kinds


_CIS = "https://www.cisecurity.org/benchmark/microsoft_365"
_SCUBA = "https://github.com/cisagov/ScubaGear/blob/main/PowerShell/ScubaGear/baselines/"
_CONTROLS_V8 = "https://www.cisecurity.org/controls/v8"


def _cis(control_id: str, title: str, *kinds: MailboxKind, coverage: str = "") -> Control:
    return Control(framework=Framework.CIS_M365, id=control_id, title=title, source=_CIS,
                   kinds=kinds, coverage=coverage)


def _scuba(policy: str, statement: str, coverage: str = "") -> Control:
    baseline = "aad.md" if policy.startswith("MS.AAD.") else "exo.md"
    anchor = policy.lower().replace(".", "")
    return Control(framework=Framework.SCUBA, id=policy, title=statement,
                   source=f"{_SCUBA}{baseline}#{anchor}", coverage=coverage)


#: The audits of the benchmarks (CIS's Audit procedures, ScubaGear's Implementation
#: sections) that look wider than the ownerless mailboxes.
_LEGACY_POLICY = ("The benchmark also requires the blocking policy to include All users and "
                  "All resources; mailwarden checks that one covers each ownerless account.")
_ORG_SMTP = ("The benchmark audits the organisation's setting (Get-TransportConfig); "
             "mailwarden counts the mailboxes that follow it, not those with their own setting.")
_FORWARDING = ("mailwarden sees forwarding set on ownerless mailboxes (their settings and inbox "
               "rules), not whether a policy blocks it; the benchmark audits {}.")


def _safeguard(control_id: str, title: str) -> Control:
    return Control(framework=Framework.CIS_CONTROLS, id=control_id, title=title,
                   source=_CONTROLS_V8)


def _technique(technique: str, title: str) -> Control:
    path = technique.replace(".", "/")
    return Control(framework=Framework.MITRE_ATTACK, id=technique, title=title,
                   source=f"https://attack.mitre.org/techniques/{path}/")


CONTROLS: tuple[Control, ...] = (
    _cis("1.2.2", "Ensure sign-in to shared mailboxes is blocked", MailboxKind.SHARED),
    _cis("5.2.2.3", "Enable Conditional Access policies to block legacy authentication",
         coverage=_LEGACY_POLICY),
    _cis("5.2.3.4", "Ensure all member users are 'MFA capable'",
         coverage="The benchmark reviews every member user; mailwarden the ownerless accounts "
         "that can sign in."),
    _cis("6.1.1", "Ensure 'AuditDisabled' organizationally is set to 'False'"),
    # Its audit inspects "each UserMailbox": a shared or resource mailbox is not one.
    _cis("6.1.2", "Ensure mailbox audit actions are configured", MailboxKind.UNLICENSED_USER,
         coverage="The benchmark inspects every UserMailbox for AuditEnabled and its own list "
         "of actions (Admin: Copy, FolderBind, Move; Delegate: FolderBind, Move; Owner: "
         "Create, MailboxLogin, Move); mailwarden the unlicensed user mailboxes, for the "
         "actions that show abuse."),
    _cis("6.1.3", "Ensure 'AuditBypassEnabled' is not enabled on mailboxes"),
    _cis("6.2.1", "Ensure all forms of mail forwarding are blocked and/or disabled",
         coverage=_FORWARDING.format("transport rules and the outbound anti-spam policy")),
    _cis("6.5.4", "Ensure SMTP AUTH is disabled", coverage=_ORG_SMTP),
    _scuba("MS.AAD.1.1v1", "Legacy authentication SHALL be blocked.", _LEGACY_POLICY),
    _scuba("MS.EXO.1.1v2", "Automatic forwarding to external domains SHALL be disabled.",
           _FORWARDING.format("remote domains (AutoForwardEnabled)")),
    _scuba("MS.EXO.5.1v1", "SMTP AUTH SHALL be disabled.", _ORG_SMTP),
    _scuba("MS.EXO.13.1v1", "Mailbox auditing SHALL be enabled.",
           "ScubaGear audits the organisation's AuditDisabled; mailwarden also counts ownerless "
           "mailboxes whose AuditEnabled is false."),
    _safeguard("3.3", "Configure Data Access Control Lists"),
    _safeguard("3.4", "Enforce Data Retention"),
    _safeguard("4.8", "Uninstall or Disable Unnecessary Services on Enterprise Assets and "
               "Software"),
    _safeguard("5.1", "Establish and Maintain an Inventory of Accounts"),
    _safeguard("5.3", "Disable Dormant Accounts"),
    _safeguard("5.4", "Restrict Administrator Privileges to Dedicated Administrator Accounts"),
    _safeguard("6.2", "Establish an Access Revoking Process"),
    _safeguard("6.8", "Define and Maintain Role-Based Access Control"),
    _safeguard("8.5", "Collect Detailed Audit Logs"),
    _technique("T1078.004", "Valid Accounts: Cloud Accounts"),
    _technique("T1098", "Account Manipulation"),
    _technique("T1114.002", "Email Collection: Remote Email Collection"),
    _technique("T1110.003", "Brute Force: Password Spraying"),
    _technique("T1564.008", "Hide Artifacts: Email Hiding Rules"),
    _technique("T1566", "Phishing"),
)

_BY_REF = {control.ref: control for control in CONTROLS}
if len(_BY_REF) != len(CONTROLS):
    raise RuntimeError("two controls of the catalogue share a reference")


class UnknownControlError(ValueError):
    """A reference names no control of the catalogue."""


def control(ref: str) -> Control | None:
    """The control a reference names, None when the catalogue holds none."""
    return _BY_REF.get(ref)


def mapped(*refs: str) -> tuple[str, ...]:
    """A check's control references, each checked against the catalogue."""
    unknown = [ref for ref in refs if ref not in _BY_REF]
    if unknown:
        raise UnknownControlError(f"not in the control catalogue: {', '.join(unknown)}")
    return refs


def framework_controls(framework: Framework) -> tuple[Control, ...]:
    """The catalogue's controls of one framework, in catalogue order."""
    return tuple(c for c in CONTROLS if c.framework is framework)


def applicable(refs: Iterable[str], kind: MailboxKind | None) -> tuple[str, ...]:
    """The references that hold for a resource of this kind (unknown ones are kept: a
    findings file from another version may name them)."""
    out = []
    for ref in refs:
        known = _BY_REF.get(ref)
        if known is None or known.covers(kind):
            out.append(ref)
    return tuple(out)
