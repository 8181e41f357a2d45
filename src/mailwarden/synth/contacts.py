"""Mail contacts: people outside the organisation in its address book (auditors, lawyers,
suppliers), whom a mailbox can forward to by name.

They depend only on the tenant's id, not on the random stream, so that adding them left
every other value of a seed's tenant as it was.
"""

from __future__ import annotations

from datetime import timedelta

from mailwarden.synth import names
from mailwarden.synth.constants import COLLECTED_AT
from mailwarden.synth.ids import derived_guids
from mailwarden.synth.model import MailContact


def mail_contacts(tenant_id: str) -> tuple[MailContact, ...]:
    """One contact at each partner organisation, and one at a personal mail service."""
    domains = (*names.PARTNER_DOMAINS, names.FREEMAIL_DOMAINS[0])
    contacts = []
    for number, domain in enumerate(domains):
        object_id, guid, pick = derived_guids(3, tenant_id, "contact", str(number))
        draw = int(pick.replace("-", ""), 16)
        given = names.FIRST_NAMES[draw % len(names.FIRST_NAMES)]
        surname = names.LAST_NAMES[(draw >> 16) % len(names.LAST_NAMES)]
        company = domain.split(".")[0]
        display = f"{given} {surname} ({company})"
        contacts.append(MailContact(
            id=object_id, name=display, alias=f"{given}.{surname}.{company}".lower(),
            display_name=display, external_address=f"{given}.{surname}@{domain}".lower(),
            exo_guid=guid, created=COLLECTED_AT - timedelta(days=30 + (draw >> 32) % 1_500),
        ))
    return tuple(contacts)
