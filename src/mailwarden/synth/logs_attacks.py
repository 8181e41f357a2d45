"""Labelled attack scenarios, one per variant the detector must find (SPEC section 7),
played against the tenant's own accounts, mailboxes, grants, rules and settings."""

from __future__ import annotations

from datetime import datetime, timedelta

from mailwarden.synth import logs_shapes as shapes
from mailwarden.synth.logs_book import ATTACK_NETWORKS, LogBook
from mailwarden.synth.model import Account

SPRAY_AGENT = "BAV2ROPC"
SLOW_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0"
ROTATING_AGENT = "Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 10.0; Trident/7.0)"


def _ip(book: LogBook, network: int, host: int | None = None) -> str:
    return f"{ATTACK_NETWORKS[network]}.{host if host is not None else book.rng.randrange(2, 250)}"


def _when(book: LogBook, day: float, hour: float) -> datetime:
    return book.start + timedelta(days=day, hours=hour, minutes=book.rng.randrange(0, 50))


def _guess_code(account: Account) -> int:
    return 50126 if account.enabled else 50057


def _spray_targets(book: LogBook, people: int, ownerless: int) -> list[Account]:
    rng = book.rng
    members = rng.sample(book.members, min(people, len(book.members)))
    boxes = book.ownerless("shared", "room", "equipment")
    return members + rng.sample(boxes, min(ownerless, len(boxes)))


def fast_spray(book: LogBook) -> None:
    """One address, IMAP, thirty accounts in ten minutes; one answers 'blocked by
    conditional access', which shows the password was right."""
    ip = _ip(book, 0)
    start = _when(book, 3, 2)
    targets = _spray_targets(book, 24, 6)
    for n, target in enumerate(targets):
        book.sign_in(start + timedelta(seconds=20 * n), target, ip, client=shapes.IMAP,
                     code=_guess_code(target), agent=SPRAY_AGENT, country="RU")
    book.sign_in(start + timedelta(minutes=15), targets[0], ip, client=shapes.IMAP, code=53003,
                 agent=SPRAY_AGENT, country="RU")
    # One attack: the spray and its attempts on each ownerless mailbox it reached.
    book.expect("password-spray", None, "fast spray", source_ips=(ip,),
                detail=f"{len(targets)} accounts over IMAP; the password of {targets[0].upn} "
                "was right", incident=f"fast spray|{ip}")
    for target in targets:
        if target.ownerless:
            book.expect("legacy-protocol-auth", target.upn, "fast spray",
                        detail="IMAP attempts against an ownerless account",
                        incident=f"fast spray|{ip}")


def slow_spray(book: LogBook) -> None:
    """One guess per account per day for four days, spread over the day; on the last
    day one account lets the attacker in."""
    ip = _ip(book, 1)
    start = _when(book, 8, 0)
    targets = book.rng.sample(book.members, min(14, len(book.members)))
    for day in range(4):
        for n, target in enumerate(targets):
            book.sign_in(start + timedelta(days=day, minutes=90 * n), target, ip,
                         code=50126, agent=SLOW_AGENT, country="NL")
    book.sign_in(start + timedelta(days=4), targets[-1], ip, agent=SLOW_AGENT, country="NL")
    book.expect("password-spray", None, "low-and-slow spray", source_ips=(ip,),
                detail=f"{len(targets)} accounts, one guess each a day for four days")


def rotating_spray(book: LogBook) -> None:
    """Sixteen addresses of one /24 take turns, one or two guesses each."""
    ips = tuple(_ip(book, 2, host) for host in range(10, 26))
    start = _when(book, 13, 1)
    targets = book.rng.sample(book.members, min(26, len(book.members)))
    for n, target in enumerate(targets):
        book.sign_in(start + timedelta(minutes=7 * n), target, ips[n % len(ips)], code=50126,
                     agent=ROTATING_AGENT, country="US")
    book.sign_in(start + timedelta(minutes=7 * len(targets)), targets[3], ips[-1],
                 agent=ROTATING_AGENT, country="US")
    book.expect("password-spray", None, "rotating-IP spray", source_ips=ips,
                detail=f"{len(targets)} accounts from {len(ips)} addresses in one /24")


def brute_force(book: LogBook, target: Account) -> None:
    """Guess after guess at one account over SMTP AUTH until smart lockout answers."""
    ip = _ip(book, 3)
    start = _when(book, 17, 3)
    for n in range(26):
        code = 50126 if n < 11 else 50053
        book.sign_in(start + timedelta(seconds=35 * n), target, ip, client=shapes.SMTP,
                     code=code, agent="", country="CN", interactive=False)
    book.expect("brute-force", target.upn, "brute force with lockouts", source_ips=(ip,),
                detail="26 guesses over SMTP AUTH, locked out (50053)",
                incident=f"brute force|{target.upn}")
    if target.ownerless:
        book.expect("legacy-protocol-auth", target.upn, "brute force with lockouts",
                    incident=f"brute force|{target.upn}")


def leaver(book: LogBook, person: Account, shared: Account) -> None:
    """SPEC's real case: a fired employee, locked out of their own account, signs in to a
    shared mailbox over IMAP with its shared password and mails all staff."""
    left = person.left_at or book.start
    home = book.home_ip(person)
    evening = max(left - timedelta(days=1), book.start).replace(hour=19, minute=12)
    if evening < left:
        book.sign_in(evening, person, home, device=book.device(person))
    attack = min(max(left, book.start) + timedelta(days=2), book.end - timedelta(days=1))
    attack = attack.replace(hour=21, minute=5)
    for n in range(3):
        book.sign_in(attack + timedelta(minutes=n), person, home, code=50057)
    signed_in = attack + timedelta(minutes=14)
    book.sign_in(signed_in, shared, home, client=shapes.IMAP, agent="")
    for n in range(5):
        book.item(signed_in + timedelta(minutes=2 + n), "MailItemsAccessed", shared.upn, home,
                  mailbox=shared, logon="owner", client="Client=IMAP4")
    for n in range(120):
        book.item(signed_in + timedelta(minutes=20, seconds=15 * n), "Send", shared.upn, home,
                  mailbox=shared, logon="owner", client="Client=IMAP4",
                  subject="What this company did to me")
    scenario = f"leaver {person.upn} uses {shared.upn}"
    for category in ("leaver-access", "ownerless-sign-in", "legacy-protocol-auth", "mass-send"):
        book.expect(category, shared.upn, scenario, source_ips=(home,))


def leaver_kept_grant(book: LogBook, skip: set[str]) -> None:
    """A person who left still holds FullAccess and reads the mailbox afterwards."""
    for box in book.tenant.ownerless:
        for grant in box.grants:
            person = book.accounts.get(grant.principal)
            if (grant.principal_kind != "user" or grant.deny or person is None
                    or person.kind != "leaver" or person.id in skip or person.left_at is None
                    or grant.right != "FullAccess"):
                continue
            mailbox = book.accounts[box.account_id]
            when = _when(book, 21, 20) if person.left_at < _when(book, 20, 0) else None
            if when is None:
                continue
            for n in range(4):
                book.item(when + timedelta(minutes=n), "MailItemsAccessed", person.upn,
                          book.home_ip(person), mailbox=mailbox, logon="delegate")
            book.expect("leaver-access", mailbox.upn, "departed person kept a grant",
                        detail=f"{person.upn} read the mailbox after leaving")
            return


def non_owner(book: LogBook, mailbox: Account, person: Account) -> None:
    """Someone the access map gives nothing reads a shared mailbox."""
    when = _when(book, 24, 9)
    for n in range(6):
        book.item(when + timedelta(minutes=3 * n), "MailItemsAccessed", person.upn,
                  book.home_ip(person), mailbox=mailbox, logon="delegate")
    book.expect("non-owner-access", mailbox.upn, "access without a grant",
                detail=f"{person.upn} holds no grant on it")
