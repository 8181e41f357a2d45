"""An independent reading of a synthetic tenant's raw files, applying the rules
documented in `mailwarden.synth.truth` to the JSON alone (no generator model).

If the generator's ground truth and this reading disagree, either the files do not say
what the generator decided, or the truth was computed differently from its own rules.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from typing import Any

OWNERLESS = {"SharedMailbox", "RoomMailbox", "EquipmentMailbox", "SchedulingMailbox"}
BROAD = {"default", "anonymous", "everyone", "nt authority\\authenticated users"}
OBSCURE = {"rss feeds", "rss subscriptions", "conversation history", "archive", "junk email",
           "deleted items", "sync issues", "notes"}
REQUIRED = {
    "AuditOwner": {"MailItemsAccessed", "Send", "UpdateInboxRules", "HardDelete"},
    "AuditDelegate": {"MailItemsAccessed", "SendAs", "SendOnBehalf", "UpdateInboxRules",
                      "HardDelete"},
    "AuditAdmin": {"MailItemsAccessed", "Send", "SendAs", "SendOnBehalf", "UpdateInboxRules",
                   "HardDelete"},
}
SID = re.compile(r"^S-1-5-21-\d+-\d+-\d+-\d+$")
SMTP_IN_RULE = re.compile(r"\[SMTP:([^\]]+)\]")
EX_IN_RULE = re.compile(r"\[EX:([^\]]+)\]")


def _date(text: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class Reading:
    def __init__(self, data: Mapping[str, Any], custodians_csv: str) -> None:
        self.data = data
        self.users = {u["id"]: u for u in data["graph/users"]}
        self.by_upn = {u["userPrincipalName"].lower(): u for u in data["graph/users"]}
        self.exo_users = {u["ExternalDirectoryObjectId"]: u for u in data["exo/Get-User"]}
        self.by_exo_name = {u["Identity"]: self.users[u["ExternalDirectoryObjectId"]]
                            for u in data["exo/Get-User"]}
        self.groups = {g["id"]: g for g in data["graph/groups"]}
        self.group_by_name = {g["displayName"]: g["id"] for g in data["graph/groups"]}
        self.members = data["graph/groupMembers"]
        self.cas = {c["Identity"]: c for c in data["exo/Get-CASMailbox"]}
        self.registrations = {r["id"]: r for r in data["graph/userRegistrationDetails"]}
        self.verified = {d.lower() for d in data["tenant"]["verifiedDomains"]}
        self.role_holders: dict[str, list[str]] = {}
        names = {d["id"]: d["displayName"] for d in data["graph/roleDefinitions"]}
        for assignment in data["graph/roleAssignments"]:
            self.role_holders.setdefault(assignment["principalId"], []).append(
                names[assignment["roleDefinitionId"]])
        bypassed = {row["Identity"] for row in data["exo/Get-MailboxAuditBypassAssociation"]
                    if row["AuditBypassEnabled"]}
        self.bypass_ids = {self.by_exo_name[name]["id"] for name in bypassed}
        self.policies = {p["Name"]: p for p in data["exo/Get-AuthenticationPolicy"]}
        rows = list(csv.DictReader(io.StringIO(custodians_csv)))
        self.custodians = {row["mailbox"] for row in rows}
        self.full_access: dict[str, list[dict[str, Any]]] = {}
        for row in data["exo/Get-MailboxPermission"]:
            self.full_access.setdefault(row["Identity"], []).append(row)
        self.send_as: dict[str, list[dict[str, Any]]] = {}
        for row in data["exo/Get-RecipientPermission"]:
            self.send_as.setdefault(row["Identity"], []).append(row)
        # Where a mail contact's or mail user's mail goes, by Identity and LegacyExchangeDN.
        self.outside_by_name: dict[str, str] = {}
        self.outside_by_dn: dict[str, str] = {}
        for row in data["exo/Get-MailContact"] + data["exo/Get-MailUser"]:
            target = row["ExternalEmailAddress"].split(":", 1)[1]
            self.outside_by_dn[row["LegacyExchangeDN"]] = target
            if row["RecipientTypeDetails"] == "MailContact":
                self.outside_by_name[row["Identity"]] = target
        self.rules: dict[str, list[dict[str, Any]]] = {}
        for row in data["exo/Get-InboxRule"]:
            self.rules.setdefault(row["MailboxOwnerId"], []).append(row)
        self.calendars = {row["Identity"]: row for row in data["exo/Get-CalendarProcessing"]}
        self.statistics = {row["Identity"]: row for row in data["exo/Get-MailboxStatistics"]}
        self.plans = {sku["skuId"]: {plan["servicePlanName"] for plan in sku["servicePlans"]}
                      for sku in data["graph/subscribedSkus"]}
        self.collected = _date(data["tenant"]["collectedAt"]) if "collectedAt" in data[
            "tenant"] else _date("2026-11-01T00:00:00Z")
        self._expanded: dict[str, set[str]] = {}

    # -- lookups ---------------------------------------------------------------------------

    def ownerless(self) -> list[dict[str, Any]]:
        result = []
        for row in self.data["exo/Get-Mailbox"]:
            kind = row["RecipientTypeDetails"]
            user = self.users.get(row["ExternalDirectoryObjectId"])
            if kind in OWNERLESS or (kind == "UserMailbox" and user
                                     and not user["assignedLicenses"]):
                result.append(row)
        return result

    def expand(self, group_id: str) -> set[str]:
        if group_id not in self._expanded:
            users: set[str] = set()
            seen: set[str] = set()
            pending = [group_id]
            while pending:
                current = pending.pop()
                if current in seen:
                    continue
                seen.add(current)
                for member in self.members.get(current, []):
                    if member["@odata.type"].endswith("group"):
                        pending.append(member["id"])
                    else:
                        users.add(member["id"])
            self._expanded[group_id] = users
        return self._expanded[group_id]

    def grants(self, mailbox: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
        """(right, trustee text) of every allowed, explicit grant except SELF."""
        identity = mailbox["Identity"]
        for row in self.full_access.get(identity, []):
            rights = ", ".join(row["AccessRights"])
            explicit = not row["Deny"] and not row["IsInherited"]
            if "FullAccess" in rights and explicit and row["User"] != "NT AUTHORITY\\SELF":
                yield "FullAccess", row["User"]
        for row in self.send_as.get(identity, []):
            explicit = row["AccessControlType"] == "Allow" and not row["IsInherited"]
            if explicit and row["Trustee"] != "NT AUTHORITY\\SELF":
                yield "SendAs", row["Trustee"]
        for name in mailbox["GrantSendOnBehalfTo"]:
            yield "SendOnBehalf", name

    def resolve(self, trustee: str) -> tuple[str, str]:
        """("user", id) / ("group", id) / ("deleted", sid) / ("broad", name)."""
        if trustee.lower() in BROAD:
            return "broad", trustee
        if trustee.lower() in self.by_upn:
            return "user", self.by_upn[trustee.lower()]["id"]
        if trustee in self.by_exo_name:
            return "user", self.by_exo_name[trustee]["id"]
        if trustee in self.group_by_name:
            return "group", self.group_by_name[trustee]
        if SID.match(trustee):
            return "deleted", trustee
        raise AssertionError(f"trustee {trustee!r} resolves to nothing")

    def stale(self, user: Mapping[str, Any]) -> bool:
        return (not user["accountEnabled"] or user["userType"] == "Guest"
                or "#EXT#" in user["userPrincipalName"] or not user["assignedLicenses"])

    def legacy_blocked(self, user_id: str) -> bool:
        role_templates = {d["id"] for d in self.data["graph/roleDefinitions"]
                          if d["displayName"] in self.role_holders.get(user_id, [])}
        for policy in self.data["graph/conditionalAccessPolicies"]:
            clients = set(policy["conditions"]["clientAppTypes"])
            users = policy["conditions"]["users"]
            if policy["state"] != "enabled" or "block" not in policy["grantControls"][
                    "builtInControls"]:
                continue
            if not ({"exchangeActiveSync", "other"} <= clients or "all" in clients):
                continue
            if "All" not in policy["conditions"]["applications"]["includeApplications"]:
                continue

            def hits(ids: list[str], groups: list[str], roles: list[str]) -> bool:
                return (user_id in ids or any(user_id in self.expand(g) for g in groups)
                        or bool(role_templates & set(roles)))

            included = "All" in users["includeUsers"] or hits(
                users["includeUsers"], users["includeGroups"], users["includeRoles"])
            if included and not hits(users["excludeUsers"], users["excludeGroups"],
                                     users["excludeRoles"]):
                return True
        return False

    def external(self, address: str) -> bool:
        return address.rsplit("@", 1)[-1].lower() not in self.verified

    # -- the verdicts ---------------------------------------------------------------------

    def failures(self, mailbox: Mapping[str, Any]) -> set[str]:
        user = self.users[mailbox["ExternalDirectoryObjectId"]]
        cas = self.cas[mailbox["Identity"]]
        exo_user = self.exo_users[user["id"]]
        found: set[str] = set()
        if user["accountEnabled"]:
            found.add("sign-in-enabled")
        if user["signInActivity"]["lastSuccessfulSignInDateTime"]:
            found.add("direct-sign-in-observed")
        changed = _date(user["lastPasswordChangeDateTime"]) - _date(user["createdDateTime"])
        if changed.total_seconds() > 86_400:
            found.add("password-reset-by-admin")
        for check, field in (("imap-enabled", "ImapEnabled"), ("pop-enabled", "PopEnabled"),
                             ("ews-enabled", "EwsEnabled"),
                             ("activesync-enabled", "ActiveSyncEnabled")):
            if cas[field]:
                found.add(check)
        smtp = cas["SmtpClientAuthenticationDisabled"]
        if smtp is None:
            smtp = self.data["exo/Get-TransportConfig"]["SmtpClientAuthenticationDisabled"]
        if smtp is False:
            found.add("smtp-auth-enabled")
        policy_name = exo_user["AuthenticationPolicy"] or \
            self.data["exo/Get-OrganizationConfig"]["DefaultAuthenticationPolicy"]
        policy = self.policies[policy_name]
        if any(value for key, value in policy.items() if key.startswith("AllowBasicAuth")):
            found.add("basic-auth-allowed")
        if not self.legacy_blocked(user["id"]):
            found.add("legacy-auth-not-blocked")
        if not mailbox["AuditEnabled"]:
            found.add("mailbox-audit-disabled")
        if any(not required <= set(mailbox[name]) for name, required in REQUIRED.items()):
            found.add("audit-actions-missing")
        found |= self._delegation(mailbox, user)
        found |= self._mail_flow(mailbox)
        if exo_user["RemotePowerShellEnabled"]:
            found.add("remote-powershell-enabled")
        if user["id"] in self.role_holders:
            found.add("privileged-account")
        if user["accountEnabled"] and not self.registrations[user["id"]]["isMfaRegistered"]:
            found.add("no-mfa-on-enabled-account")
        if mailbox["RecipientTypeDetails"] in {"RoomMailbox", "EquipmentMailbox"} and (
                user["accountEnabled"]):
            found.add("resource-account-enabled")
        return found | self._upkeep(mailbox, user)

    def _upkeep(self, mailbox: Mapping[str, Any], user: Mapping[str, Any]) -> set[str]:
        found: set[str] = set()
        calendar = self.calendars.get(mailbox["Identity"])
        if calendar is not None:
            delegates = [self.by_exo_name.get(name) or self.guest_by_name(name)
                         for name in calendar["ResourceDelegates"]]
            guest = any(d["userType"] == "Guest" for d in delegates)
            if (calendar["ProcessExternalMeetingMessages"]
                    and calendar["AutomateProcessing"] != "None") or (
                    guest and calendar["ForwardRequestsToDelegates"]):
                found.add("room-external-booking")
            left = [d for d in delegates if d["userType"] != "Guest" and (
                not d["accountEnabled"] or (d.get("employeeLeaveDateTime") and _date(
                    d["employeeLeaveDateTime"]) <= self.collected))]
            if left:
                found.add("room-delegate-left")
        stats = self.statistics[mailbox["Identity"]]
        size = int(re.sub(r"\D", "", stats["TotalItemSize"].split("(")[1]))
        if mailbox["RecipientTypeDetails"] == "SharedMailbox":
            needs = (size > 50 * 1024**3 or mailbox["ArchiveStatus"] == "Active"
                     or mailbox["LitigationHoldEnabled"])
            skus = [lic["skuId"] for lic in user["assignedLicenses"]]
            plans = set().union(*(self.plans[sku] for sku in skus)) if skus else set()
            if needs and "EXCHANGE_S_ENTERPRISE" not in plans:
                found.add("shared-mailbox-needs-licence")
            if skus and not needs:
                found.add("shared-mailbox-licence-unused")
        last = _date(stats["LastInteractionTime"])
        if (self.collected - last).days > 180:
            found.add("mailbox-inactive")
        return found

    def guest_by_name(self, name: str) -> Mapping[str, Any]:
        row = next(u for u in self.data["exo/Get-MailUser"] if u["Identity"] == name)
        return self.users[row["ExternalDirectoryObjectId"]]

    def _delegation(self, mailbox: Mapping[str, Any], owner: Mapping[str, Any]) -> set[str]:
        found: set[str] = set()
        reached: set[str] = set()
        inferable = False
        for right, trustee in self.grants(mailbox):
            kind, value = self.resolve(trustee)
            if kind == "broad":
                found.add("broad-delegation")
                continue
            if kind == "deleted":
                found.add("stale-delegate")
                reached.add(value)
                continue
            people = self.expand(value) if kind == "group" else {value}
            if kind == "group" and len(people) >= 100:
                found.add("broad-delegation")
            reached |= people
            if any(self.stale(self.users[p]) for p in people):
                found.add("stale-delegate")
            if kind == "user" and right == "FullAccess":
                person = self.users[value]
                if (person["accountEnabled"] and person["assignedLicenses"]
                        and person["userType"] == "Member"):
                    inferable = True
        if len(reached) > 25:
            found.add("broad-delegation")
        if (self.bypass_ids & reached) or owner["id"] in self.bypass_ids:
            found.add("audit-bypass-enabled")
        if owner["userPrincipalName"].lower() not in self.custodians and not inferable:
            found.add("no-custodian")
        return found

    def _mail_flow(self, mailbox: Mapping[str, Any]) -> set[str]:
        found: set[str] = set()
        forwarding = mailbox["ForwardingSmtpAddress"]
        if forwarding and self.external(forwarding.split(":", 1)[-1]):
            found.add("external-forwarding")
        contact = self.outside_by_name.get(mailbox["ForwardingAddress"] or "")
        if contact and self.external(contact):
            found.add("external-forwarding")
        for rule in self.rules.get(mailbox["Identity"], []):
            if not rule["Enabled"]:
                continue
            targets = (rule["ForwardTo"] or []) + (rule["ForwardAsAttachmentTo"] or []) + (
                rule["RedirectTo"] or [])
            for target in targets:
                match = SMTP_IN_RULE.search(target)
                if match and self.external(match.group(1)):
                    found.add("external-forwarding")
                named = EX_IN_RULE.search(target)
                outside = self.outside_by_dn.get(named.group(1)) if named else None
                if outside and self.external(outside):
                    found.add("external-forwarding")
            folder = (rule["MoveToFolder"] or "").split(":\\")[-1].lower()
            if (rule["DeleteMessage"] or rule["SoftDeleteMessage"] or rule["MarkAsRead"]
                    or folder in OBSCURE):
                found.add("hiding-inbox-rule")
        return found

    def tenant_failures(self) -> set[str]:
        found: set[str] = set()
        if self.data["exo/Get-OrganizationConfig"]["AuditDisabled"]:
            found.add("audit-disabled-org")
        values = {v["name"]: v["value"] for s in self.data["graph/settings"]
                  if s["displayName"] == "Password Rule Settings" for v in s["values"]}
        if int(values["LockoutThreshold"]) > 10 or int(values["LockoutDurationInSeconds"]) < 60:
            found.add("weak-smart-lockout")
        if self.bypass_ids:
            found.add("audit-bypass-enabled")
        if not self.data["exo/Get-OrganizationConfig"]["RejectDirectSend"]:
            found.add("direct-send-allowed")
        if self.unscoped_apps():
            found.add("app-mail-access-unscoped")
        return found

    def unscoped_apps(self) -> set[str]:
        """Service principal ids with a mail app role and no RestrictAccess policy, or an
        RBAC for Applications mail role without a scope."""
        roles = {(sp["id"], role["id"]): role["value"]
                 for sp in self.data["graph/servicePrincipals"] for role in sp["appRoles"]}
        app_ids = {sp["id"]: sp["appId"] for sp in self.data["graph/servicePrincipals"]}
        restricted = {p["AppId"] for p in self.data["exo/Get-ApplicationAccessPolicy"]
                      if p["AccessRight"] == "RestrictAccess"}
        found = {a["principalId"] for rows in self.data["graph/appRoleAssignedTo"].values()
                 for a in rows
                 if roles[(a["resourceId"], a["appRoleId"])].startswith(("Mail.", "full_access"))
                 and app_ids[a["principalId"]] not in restricted}
        found |= {row["RoleAssignee"] for row in self.data["exo/Get-ManagementRoleAssignment"]
                  if row["Role"].startswith("Application Mail") and not row["CustomResourceScope"]}
        return found

    def unknowns(self) -> set[tuple[str, str | None]]:
        """Checks the files cannot decide: a sign-in attempt older than 2023-12-01, when
        Graph began recording lastSuccessfulSignInDateTime, with no success recorded."""
        result: set[tuple[str, str | None]] = set()
        since = _date("2023-12-01T00:00:00Z")
        for mailbox in self.ownerless():
            activity = self.users[mailbox["ExternalDirectoryObjectId"]]["signInActivity"]
            if activity["lastSuccessfulSignInDateTime"]:
                continue
            attempts = [activity[name] for name in ("lastSignInDateTime",
                                                    "lastNonInteractiveSignInDateTime")]
            if any(a and _date(a) < since for a in attempts):
                result.add(("direct-sign-in-observed", mailbox["UserPrincipalName"].lower()))
        return result

    def verdicts(self) -> set[tuple[str, str | None]]:
        result: set[tuple[str, str | None]] = {(c, None) for c in self.tenant_failures()}
        for mailbox in self.ownerless():
            upn = mailbox["UserPrincipalName"].lower()
            result |= {(check, upn) for check in self.failures(mailbox)}
        return result
