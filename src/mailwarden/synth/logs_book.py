"""The log generator's working state: its own random stream, the tenant's people by
role, where each person signs in from, the records written so far, and the labels."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from mailwarden.synth import logs_shapes as shapes
from mailwarden.synth.constants import COLLECTED_AT
from mailwarden.synth.ids import new_guid
from mailwarden.synth.model import Account, OwnerlessMailbox, Tenant
from mailwarden.synth.names import OFFICES

#: The logs cover the 30 days before collection (what Entra keeps with P1/P2 licences).
LOG_DAYS = 30
#: Browsers and Office clients the staff use; a spray with one of them hides in the crowd.
STAFF_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.1 Safari/605.1.15",
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17126; Pro)",
)
#: First octets of the consumer networks people's home addresses come from.
_HOME_NETWORKS = (24, 31, 62, 73, 77, 81, 82, 86, 90, 92, 98, 109, 151, 176, 178, 212, 217)
#: Networks no home or office address is drawn from; the attack scenarios use them.
ATTACK_NETWORKS = ("185.220.101", "45.95.147", "193.56.28", "194.26.29", "91.92.240")


@dataclass(frozen=True, slots=True, kw_only=True)
class Label:
    """What detection must find (an expected alert) or must not (a negative): a category
    on a target (UPN), or, for alerts about a source rather than a mailbox, on its IPs."""

    category: str
    target: str | None
    source_ips: tuple[str, ...] = ()
    scenario: str
    detail: str = ""
    #: Which attack it belongs to: the labels of one attack share it (`incident_key`).
    incident: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"category": self.category, "target": self.target,
                "source_ips": list(self.source_ips), "scenario": self.scenario,
                "detail": self.detail, "incident": self.incident}


def incident_key(scenario: str, target: str | None, source_ips: tuple[str, ...]) -> str:
    """One attack: a scenario against one mailbox (or, for a scenario about a source, all
    it did); a scenario that hit several mailboxes one by one is one attack on each."""
    return f"{scenario}|{target or ','.join(source_ips)}"


class LogBook:
    """Mutable generator state (never leaves the package)."""

    def __init__(self, tenant: Tenant, seed: int) -> None:
        # A stream of its own: the logs never change the tenant drawn from the seed.
        self.rng = random.Random(f"mailwarden-logs-{seed}")
        self.tenant = tenant
        self.end = COLLECTED_AT
        self.start = COLLECTED_AT - timedelta(days=LOG_DAYS)
        self.signins: list[dict[str, Any]] = []
        self.audits: list[dict[str, Any]] = []
        self.ual: list[dict[str, Any]] = []
        self.expected: list[Label] = []
        self.negatives: list[Label] = []
        self.accounts = {account.id: account for account in tenant.accounts}
        self.mailboxes = {box.account_id: box for box in tenant.ownerless}
        self.offices = {office: f"{self.rng.choice((20, 40, 51, 52))}.{self.rng.randrange(1, 255)}"
                        f".{self.rng.randrange(1, 255)}.{self.rng.randrange(2, 250)}"
                        for office in OFFICES}
        self._home: dict[str, str] = {}
        self._networks: set[str] = set()
        self._office_of: dict[str, str] = {}
        self._agent: dict[str, str] = {}
        self._device: dict[str, str] = {}

    # -- people ------------------------------------------------------------------------

    def of_kind(self, *kinds: str) -> list[Account]:
        return [a for a in self.tenant.accounts if a.kind in kinds]

    @property
    def members(self) -> list[Account]:
        return [a for a in self.tenant.accounts if a.kind == "member" and a.enabled]

    def ownerless(self, *kinds: str) -> list[Account]:
        return [a for a in self.tenant.accounts if a.ownerless and (not kinds or a.kind in kinds)]

    def mailbox(self, account: Account) -> OwnerlessMailbox | None:
        return self.mailboxes.get(account.id)

    @property
    def admin(self) -> Account:
        return self.of_kind("admin")[0]

    def home_ip(self, account: Account) -> str:
        """One address per person, each in a /24 nobody else uses."""
        if account.id not in self._home:
            while True:
                network = (f"{self.rng.choice(_HOME_NETWORKS)}.{self.rng.randrange(256)}"
                           f".{self.rng.randrange(256)}")
                if network not in self._networks:
                    break
            self._networks.add(network)
            self._home[account.id] = f"{network}.{self.rng.randrange(2, 254)}"
        return self._home[account.id]

    def office_ip(self, account: Account) -> str:
        if account.id not in self._office_of:
            self._office_of[account.id] = self.rng.choice(OFFICES)
        return self.offices[self._office_of[account.id]]

    def agent(self, account: Account) -> str:
        return self._agent.setdefault(account.id, self.rng.choice(STAFF_AGENTS))

    def device(self, account: Account) -> str:
        return self._device.setdefault(account.id, new_guid(self.rng))

    # -- time --------------------------------------------------------------------------

    def days(self) -> list[datetime]:
        return [self.start + timedelta(days=n) for n in range(LOG_DAYS)]

    def at(self, day: datetime, low_hour: float, high_hour: float) -> datetime:
        return day + timedelta(seconds=int(3600 * (low_hour + self.rng.random()
                                                   * (high_hour - low_hour))))

    def inside(self, moment: datetime | None) -> bool:
        return moment is not None and self.start <= moment < self.end

    # -- records and labels --------------------------------------------------------------

    def sign_in(self, when: datetime, account: Account, ip: str, **fields: Any) -> None:
        fields.setdefault("agent", self.agent(account))
        self.signins.append(shapes.sign_in(self.rng, when, account, ip, **fields))

    def audit(self, when: datetime, activity: str, target: Account, **fields: Any) -> None:
        fields.setdefault("by", self.admin)
        fields.setdefault("ip", self.office_ip(fields["by"]))
        self.audits.append(shapes.directory_audit(self.rng, when, activity, target, **fields))

    def cmdlet(self, when: datetime, operation: str, actor: Account, ip: str, *,
               object_id: str, parameters: list[tuple[str, str]]) -> None:
        self.ual.append(shapes.cmdlet(self.rng, when, operation, actor.upn, ip,
                                      tenant_id=self.tenant.tenant_id, object_id=object_id,
                                      parameters=parameters))

    def item(self, when: datetime, operation: str, actor: str, ip: str, *, mailbox: Account,
             logon: str, client: str = "Client=OWA;Action=ViaProxy", **fields: Any) -> None:
        self.ual.append(shapes.mailbox_item(self.rng, when, operation, actor, ip,
                                            tenant_id=self.tenant.tenant_id, mailbox=mailbox,
                                            logon=logon, client=client, **fields))

    def expect(self, category: str, target: str | None, scenario: str, *,
               source_ips: tuple[str, ...] = (), detail: str = "",
               incident: str | None = None) -> None:
        """An expected alert; `incident` names the attack it is part of when that is more
        than this scenario on this target (a spray and the mailboxes it reached)."""
        target = target.lower() if target else None
        self.expected.append(Label(category=category, target=target, source_ips=source_ips,
                                   scenario=scenario, detail=detail,
                                   incident=incident or incident_key(scenario, target,
                                                                     source_ips)))

    def avoid(self, category: str, target: str | None, scenario: str, *,
              source_ips: tuple[str, ...] = (), detail: str = "") -> None:
        self.negatives.append(Label(category=category, target=target.lower() if target else None,
                                    source_ips=source_ips, scenario=scenario, detail=detail))
