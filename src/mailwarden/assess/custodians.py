"""Custodians: the person answerable for each ownerless mailbox.

A custodians file maps mailbox -> custodian (and team). YAML:

    custodians:
      - {mailbox: hr@contoso.com, custodian: jane.doe@contoso.com, team: People}

(or a mapping `hr@contoso.com: jane.doe@contoso.com` / `hr@contoso.com: {custodian: ..,
team: ..}`), or CSV with the header `mailbox,custodian,team`. Without an entry, a
custodian is inferred from the delegates (see `infer_custodian`).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mailwarden.errors import InputError
from mailwarden.model.findings import Custodian, CustodianSource, MailboxAccess, PersonAccess
from mailwarden.model.inventory import Account
from mailwarden.text import plural

_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_MAX_REPORTED = 10
#: Job-title words by seniority: a custodian should be able to decide, not only use.
_SENIORITY = tuple(
    (rank, re.compile(r"\b(" + "|".join(words) + r")\b"))
    for rank, words in (
        (5, ("chief", "ceo", "cfo", "cto", "coo", "ciso", "cio", "(?<!vice )president", "founder")),
        (4, ("vice president", "vp", "svp", "evp")),
        (3, ("director", "head")),
        (2, ("manager", "lead", "supervisor", "principal")),
        (1, ("senior",)),
    )
)


@dataclass(frozen=True, slots=True, kw_only=True)
class CustodianEntry:
    mailbox: str  # lower case
    person: str  # lower case
    team: str | None
    origin: str  # "file:line"


@dataclass(frozen=True, slots=True, kw_only=True)
class CustodianMap:
    path: str
    entries: tuple[CustodianEntry, ...]
    by_mailbox: Mapping[str, CustodianEntry] = field(default_factory=dict)

    @classmethod
    def of(cls, path: str, entries: Iterable[CustodianEntry]) -> CustodianMap:
        items = tuple(entries)
        return cls(path=path, entries=items, by_mailbox={e.mailbox: e for e in items})

    def get(self, mailbox: str) -> CustodianEntry | None:
        return self.by_mailbox.get(mailbox.lower())


def load_custodians(path: Path) -> CustodianMap:
    """Read a YAML or CSV custodians file; every bad row is named with its line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"{path}: cannot read the custodians file ({exc.strerror})") from exc
    if path.suffix.lower() in {".yaml", ".yml"}:
        rows = _yaml_rows(path, text)
    elif path.suffix.lower() == ".csv":
        rows = _csv_rows(path, text)
    else:
        raise InputError(f"{path}: custodians files are .yaml, .yml or .csv")
    return CustodianMap.of(str(path), _validated(path, rows))


Row = tuple[int, Mapping[str, Any]]  # (line, fields)


def _csv_rows(path: Path, text: str) -> list[Row]:
    reader = csv.reader(io.StringIO(text))
    header: list[str] | None = None
    rows: list[Row] = []
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values) or values[0].lstrip().startswith("#"):
            continue
        if header is None:
            header = [v.strip().lower() for v in values]
            if "mailbox" not in header or "custodian" not in header:
                raise InputError(
                    f"{path}:{line}: the header must name the columns mailbox,custodian[,team]"
                    f" (found {','.join(header)})"
                )
            continue
        rows.append((line, dict(zip(header, (v.strip() for v in values), strict=False))))
    return rows


def _yaml_rows(path: Path, text: str) -> list[Row]:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise InputError(f"{path}{where}: not valid YAML ({exc})") from exc
    if root is None:
        return []
    if isinstance(root, yaml.MappingNode):
        keys = {k.value: v for k, v in root.value if isinstance(k, yaml.ScalarNode)}
        if "custodians" in keys:
            root = keys["custodians"]
        else:
            return [_mapping_row(path, key, value) for key, value in root.value]
    if not isinstance(root, yaml.SequenceNode):
        raise InputError(f"{path}:{root.start_mark.line + 1}: expected a list of custodians")
    rows: list[Row] = []
    for item in root.value:
        line = item.start_mark.line + 1
        if not isinstance(item, yaml.MappingNode):
            raise InputError(f"{path}:{line}: expected mailbox, custodian and team")
        rows.append((line, _scalars(path, item)))
    return rows


def _scalars(path: Path, node: yaml.MappingNode) -> dict[str, str]:
    fields = {}
    for key, value in node.value:
        if not isinstance(value, yaml.ScalarNode):
            raise InputError(f"{path}:{value.start_mark.line + 1}: {key.value} must be text")
        fields[str(key.value).lower()] = str(value.value).strip()
    return fields


def _mapping_row(path: Path, key: yaml.Node, value: yaml.Node) -> Row:
    line = key.start_mark.line + 1
    if isinstance(value, yaml.ScalarNode):
        return line, {"mailbox": str(key.value), "custodian": str(value.value)}
    if isinstance(value, yaml.MappingNode):
        return line, {"mailbox": str(key.value), **_scalars(path, value)}
    raise InputError(f"{path}:{line}: expected a custodian address or custodian and team")


def _shown(value: str) -> str:
    return repr(value) if value else "(empty)"


def _validated(path: Path, rows: Iterable[Row]) -> tuple[CustodianEntry, ...]:
    entries: dict[str, CustodianEntry] = {}
    bad: list[str] = []
    for line, fields in rows:
        mailbox = str(fields.get("mailbox") or "").strip().lower()
        person = str(fields.get("custodian") or fields.get("person") or "").strip().lower()
        team = str(fields.get("team") or "").strip() or None
        where = f"{path}:{line}"
        if not _ADDRESS.match(mailbox):
            bad.append(f"{where}: mailbox {_shown(mailbox)} is not an address")
        elif not _ADDRESS.match(person):
            bad.append(f"{where}: custodian {_shown(person)} is not an address")
        elif mailbox in entries:
            bad.append(f"{where}: {mailbox} is already mapped at {entries[mailbox].origin}")
        else:
            entries[mailbox] = CustodianEntry(
                mailbox=mailbox, person=person, team=team, origin=where
            )
    if bad:
        shown = "; ".join(bad[:_MAX_REPORTED])
        more = f" (and {len(bad) - _MAX_REPORTED} more)" if len(bad) > _MAX_REPORTED else ""
        raise InputError(f"bad custodian rows: {shown}{more}; fix them and run again")
    return tuple(entries.values())


def seniority(job_title: str | None) -> int:
    title = (job_title or "").lower()
    return next((rank for rank, pattern in _SENIORITY if pattern.search(title)), 0)


def _eligible(person: PersonAccess) -> bool:
    return (
        "FullAccess" in person.rights
        and person.enabled is True
        and person.licensed is True
        and not person.guest
        and not person.external
    )


def infer_custodian(
    mailbox: str,
    access: MailboxAccess,
    accounts: Mapping[str, Account],
    *,
    from_groups: bool = False,
    path: Callable[[PersonAccess], str | None] | None = None,
) -> Custodian | None:
    """The enabled, licensed member holding FullAccess directly (then, if allowed, through
    a group); among several, the most senior by job title, then the most recently active,
    then the first by UPN. `path` says how a person holds FullAccess through groups (see
    `access.access_path`), so that the reason names the groups it comes through."""
    pools = [[p for p in access.people if _eligible(p) and p.direct]]
    if from_groups:
        pools.append([p for p in access.people if _eligible(p) and not p.direct])
    for pool, how in zip(pools, ("direct FullAccess", "FullAccess through a group"), strict=False):
        if not pool:
            continue

        def rank(person: PersonAccess) -> tuple[int, float, str]:
            account = accounts.get(person.account_id)
            seen = person.last_sign_in.timestamp() if person.last_sign_in else 0.0
            return (-seniority(account.job_title if account else None), -seen, person.upn)

        chosen = min(pool, key=rank)
        account = accounts.get(chosen.account_id)
        title = f", {account.job_title}" if account and account.job_title else ""
        through = path(chosen) if path is not None and not chosen.direct else None
        held = f"{how} ({through})" if through else how
        return Custodian(
            mailbox=mailbox,
            person=chosen.upn,
            team=account.department if account else None,
            source=CustodianSource.INFERRED,
            reason=f"holds {held}{title}; chosen from {plural(len(pool), 'candidate')} by "
            "seniority, then most recent sign-in",
        )
    return None
