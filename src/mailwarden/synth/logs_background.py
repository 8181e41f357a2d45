"""Benign traffic: people signing in from offices and home, typos then success,
delegates using the shared mailboxes they were granted, rooms processing bookings,
integrations sending over SMTP, and the directory changes admins make every week.

The tricky negatives are labelled here: what a careless detector would raise."""

from __future__ import annotations

from datetime import timedelta

from mailwarden.synth import logs_shapes as shapes
from mailwarden.synth import logs_usage as usage
from mailwarden.synth.logs_book import LogBook
from mailwarden.synth.model import Account, OwnerlessMailbox

#: People whose ordinary sign-ins are written; a sample above it keeps a large tenant quick.
MAX_BACKGROUND_PEOPLE = 10_000
_TYPO_RATE = 0.02
_SYSTEM = "NT AUTHORITY\\SYSTEM (Microsoft.Exchange.ServiceHost)"
_BOOKING = "Client=TBA;Service=MSExchangeMailboxAssistants;Action=ResourceBookingAssistant"


def _people(book: LogBook) -> list[Account]:
    people = [a for a in book.tenant.accounts if a.kind in {"member", "leaver", "admin"}]
    if len(people) > MAX_BACKGROUND_PEOPLE:
        people = sorted(book.rng.sample(people, MAX_BACKGROUND_PEOPLE), key=lambda a: a.upn)
    return people


def staff_sign_ins(book: LogBook) -> None:
    """Working days from the office (its NAT address) or home; a few typos, each followed
    by the right password within minutes. Leavers sign in until the day they left."""
    rng = book.rng
    typists: list[Account] = []
    for person in _people(book):
        until = person.left_at or book.end
        for day in book.days():
            weekday = day.weekday() < 5
            if rng.random() > (0.85 if weekday else 0.1):
                continue
            ip = book.office_ip(person) if weekday and rng.random() < 0.7 else book.home_ip(person)
            for _ in range(rng.choice((1, 1, 2))):
                when = book.at(day, 7.5, 18.5)
                if when >= until:
                    continue
                client = shapes.BROWSER if rng.random() < 0.7 else shapes.MODERN
                if rng.random() < _TYPO_RATE:
                    book.sign_in(when - timedelta(seconds=rng.randrange(20, 240)), person, ip,
                                 client=client, code=50126)
                    typists.append(person)
                book.sign_in(when, person, ip, client=client, device=book.device(person))
    for person in sorted({p.id: p for p in typists}.values(), key=lambda a: a.upn)[:10]:
        book.avoid("brute-force", person.upn, "typos then success",
                   detail="a mistyped password followed by the right one")
    for office_ip in sorted(set(book.offices.values())):
        book.avoid("password-spray", None, "office NAT", source_ips=(office_ip,),
                   detail="hundreds sign in from the office address; a few mistype")


def guest_sign_ins(book: LogBook) -> None:
    for guest in book.of_kind("guest"):
        if guest.last_success is None:
            continue
        for day in book.rng.sample(book.days(), 3):
            book.sign_in(book.at(day, 8, 17), guest, book.home_ip(guest), country="DE")


def integration_sign_ins(book: LogBook) -> None:
    """Scanners and line-of-business apps send mail as unlicensed mailboxes over SMTP
    AUTH: by SPEC section 7 a (legacy) ownerless sign-in, worth an alert every day."""
    for service in book.ownerless("service"):
        ip = book.office_ip(service)
        for day in book.days():
            for _ in range(book.rng.randrange(2, 6)):
                book.sign_in(book.at(day, 6, 20), service, ip, client=shapes.SMTP,
                             agent="", interactive=False)
        for category in ("ownerless-sign-in", "legacy-protocol-auth"):
            book.expect(category, service.upn, "integration sends over SMTP AUTH",
                        detail="an unlicensed mailbox used by a device or application")


def recorded_activity(book: LogBook) -> None:
    """What the recorded tenant says happened inside the window: an ownerless account's
    last successful sign-in, and an admin's reset of its password."""
    members = book.members
    for account in book.ownerless("shared", "room", "equipment", "scheduling"):
        if book.inside(account.last_success) and account.last_success is not None:
            user = book.rng.choice(members)
            book.sign_in(account.last_success, account, book.office_ip(user),
                         agent=book.agent(user))
            book.expect("ownerless-sign-in", account.upn, "recorded last sign-in",
                        detail="signInActivity.lastSuccessfulSignInDateTime is in the window")
        if book.inside(account.password_changed) and account.password_changed > (
                account.created + timedelta(days=1)):
            book.audit(account.password_changed, "Reset user password", account)
            book.expect("password-reset", account.upn, "admin password reset",
                        detail="lastPasswordChangeDateTime is in the window")


def direct_delegates(book: LogBook, box: OwnerlessMailbox) -> dict[str, set[str]]:
    """Enabled, licensed staff granted directly (no Deny) -> their rights."""
    denied = {g.principal for g in box.grants if g.deny}
    rights: dict[str, set[str]] = {}
    for grant in box.grants:
        person = book.accounts.get(grant.principal) if grant.principal_kind == "user" else None
        if (person is None or grant.deny or grant.inherited or person.id in denied
                or person.kind != "member" or not person.enabled or not person.licensed):
            continue
        rights.setdefault(person.id, set()).add(grant.right)
    return rights


def _drop_unused(book: LogBook, drawn: int, mailbox: Account, person: Account,
                 right: str) -> None:
    """Drop the records drawn since `drawn` when the grant is one nobody uses."""
    if usage.dormant(mailbox.id, person.id, right):
        del book.ual[drawn:]


def delegate_access(book: LogBook) -> None:
    """People with FullAccess read the shared mailbox most working days; those with
    SendAs or SendOnBehalf send from it now and then. The uses of a grant nobody uses
    (logs_usage.dormant) are drawn all the same and then dropped, so that every other
    record of the logs stays as the seed draws it."""
    rng = book.rng
    for box in book.tenant.ownerless:
        mailbox = book.accounts[box.account_id]
        delegates = direct_delegates(book, box)
        for person_id in sorted(delegates):
            person, rights = book.accounts[person_id], delegates[person_id]
            for day in book.days():
                if day.weekday() >= 5 or rng.random() > 0.5:
                    continue
                ip = book.office_ip(person)
                if "FullAccess" in rights:
                    for _ in range(rng.randrange(1, 4)):
                        drawn = len(book.ual)
                        book.item(book.at(day, 8, 18), "MailItemsAccessed", person.upn, ip,
                                  mailbox=mailbox, logon="delegate")
                        _drop_unused(book, drawn, mailbox, person, "FullAccess")
                for right in ("SendAs", "SendOnBehalf"):
                    if right in rights and rng.random() < 0.3:
                        drawn = len(book.ual)
                        book.item(book.at(day, 8, 18), right, person.upn, ip, mailbox=mailbox,
                                  logon="delegate", subject="Re: your request",
                                  send_as=mailbox.upn)
                        _drop_unused(book, drawn, mailbox, person, right)
        if delegates:
            for category in ("non-owner-access", "mass-send"):
                book.avoid(category, mailbox.upn, "delegates' normal access",
                           detail="people the access map grants read and send every day")


def calendar_processing(book: LogBook) -> None:
    """The booking assistant accepts meetings for rooms and equipment and answers the
    organisers: many sends on busy days, none of them by a person."""
    rng = book.rng
    for resource in book.ownerless("room", "equipment"):
        for day in book.days():
            if day.weekday() >= 5:
                continue
            for _ in range(rng.randrange(4, 40) if rng.random() < 0.3 else rng.randrange(0, 6)):
                when = book.at(day, 7, 19)
                book.item(when, "Update", _SYSTEM, "::1", mailbox=resource, logon="owner",
                          client=_BOOKING, folder="\\Calendar", subject="Project sync")
                book.item(when + timedelta(seconds=2), "Send", _SYSTEM, "::1", mailbox=resource,
                          logon="owner", client=_BOOKING, subject="Accepted: Project sync")
        for category in ("mass-send", "non-owner-access", "ownerless-sign-in"):
            book.avoid(category, resource.upn, "room calendar processing",
                       detail="the booking assistant updates the calendar and answers organisers")


def admin_routine(book: LogBook) -> None:
    """Title changes, help-desk password resets of staff, accounts disabled as people
    leave and enabled again as they come back from leave."""
    rng = book.rng
    members = book.members
    for day in book.days():
        if day.weekday() >= 5:
            continue
        for _ in range(rng.randrange(0, 3)):
            person = rng.choice(members)
            book.audit(book.at(day, 9, 17), "Update user", person,
                       properties=[("JobTitle", '["Analyst"]', '["Senior Analyst"]')])
    for person in rng.sample(members, min(len(members), max(2, len(members) // 40))):
        book.audit(book.at(rng.choice(book.days()), 9, 17), "Reset user password", person)
        book.avoid("password-reset", person.upn, "help-desk reset of a person's password")
    for leaver in book.of_kind("leaver"):
        if book.inside(leaver.left_at) and leaver.left_at is not None:
            book.audit(leaver.left_at, "Disable account", leaver,
                       properties=[("AccountEnabled", "[true]", "[false]")])
    returning = rng.choice(members)
    book.audit(book.at(book.days()[5], 9, 10), "Update user", returning,
               properties=[("AccountEnabled", "[false]", "[true]")])
    book.avoid("sign-in-unblocked", returning.upn, "a person back from leave enabled again")


def stale_devices(book: LogBook, skip: set[str]) -> None:
    """A former employee's phone keeps trying their disabled account from home: noise,
    not an intrusion, as long as nothing else happens from there."""
    leavers = [a for a in book.of_kind("leaver") if a.id not in skip and a.left_at
               and a.left_at < book.start]
    for leaver in leavers[:2]:
        ip = book.home_ip(leaver)
        for day in book.days()[::2]:
            book.sign_in(book.at(day, 6, 22), leaver, ip, client=shapes.MODERN, code=50057,
                         interactive=False, agent="iOS/17.1 (21B80) dataaccessd/1.0")
        book.avoid("leaver-access", leaver.upn, "a leaver's old phone retries",
                   detail="failed sign-ins (50057) to the disabled account only")
