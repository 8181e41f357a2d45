"""The exceptions file (YAML): failing findings accepted for a while.

    exceptions:
      - check: room-external-booking        # a check id, or "*" with an exact mailbox
        mailbox: room-*@contoso.com          # an address or a glob (* ? [..]); none: tenant-wide
        reason: Rooms in this range are booked by our partner agencies.
        owner: facilities@contoso.com        # who answers for the exception
        expires: 2027-03-31                  # ISO date; accepted through that day (UTC)
        ticket: CHG-1234                     # optional

Every bad entry is reported at once, each as FILE:LINE and what to do, in one InputError
(exit code 2): a check id that is not in the catalogue (with the list of valid ones), a
missing reason, owner or expiry, an expiry that is no ISO date, `check: "*"` without one
exact mailbox, a mailbox on a tenant-wide check, or one entry given twice. An expiry in the
past is not an error: the exception is reported as expired and its findings fail again.
`parse_exceptions` is pure; `load_exceptions` reads the file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml

from mailwarden.errors import InputError
from mailwarden.model.exceptions import ANY_CHECK, ExceptionSource, FindingException, is_pattern
from mailwarden.model.findings import CheckInfo, Scope
from mailwarden.yamltext import compose

_KEYS = ("check", "mailbox", "reason", "owner", "expires", "ticket")
_REQUIRED = ("check", "reason", "owner", "expires")


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _text(node: yaml.Node) -> str | None:
    """A scalar's text; None for null or for anything that is not one value."""
    if not isinstance(node, yaml.ScalarNode) or node.tag.endswith(":null"):
        return None
    return str(node.value).strip()


def _known_checks(checks: Sequence[CheckInfo]) -> str:
    return ", ".join(sorted(info.id for info in checks))


class _Entry:
    """One list item, validated field by field; every problem is kept, none raised."""

    def __init__(self, node: yaml.Node, source: str, checks: dict[str, CheckInfo],
                 errors: list[str], *, lines: bool = True) -> None:
        self.node, self.source, self.checks, self.errors = node, source, checks, errors
        self.lines = lines
        self.fields: dict[str, yaml.Node] = {}

    def error(self, node: yaml.Node, message: str) -> None:
        where = f"{self.source}:{_line(node)}" if self.lines else self.source
        self.errors.append(f"{where}: {message}")

    def read(self, all_checks: Sequence[CheckInfo]) -> FindingException | None:
        if not isinstance(self.node, yaml.MappingNode):
            self.error(self.node, "each exception is a mapping with check, mailbox, reason, "
                       "owner, expires (and optionally ticket)")
            return None
        for key_node, value_node in self.node.value:
            key = _text(key_node) or ""
            if key not in _KEYS:
                self.error(key_node, f"unknown key {key!r} (expected {', '.join(_KEYS)})")
            elif key in self.fields:
                self.error(key_node, f"{key!r} is given twice in one exception")
            else:
                self.fields[key] = value_node
        before = len(self.errors)
        for key in _REQUIRED:
            if key not in self.fields or not _text(self.fields[key]):
                self.error(self.node, f"missing {key}: every exception needs "
                           f"{', '.join(_REQUIRED)}")
        check = self._check(all_checks)
        mailbox = self._mailbox(check)
        expires = self._expires()
        if len(self.errors) > before or check is None or expires is None:
            return None
        ticket = _text(self.fields["ticket"]) if "ticket" in self.fields else None
        return FindingException(
            check=check, mailbox=mailbox, reason=_text(self.fields["reason"]) or "",
            owner=_text(self.fields["owner"]) or "", expires=expires, ticket=ticket or None,
            source=ExceptionSource.FILE,
            origin=f"{self.source}:{_line(self.node)}" if self.lines else self.source)

    def _check(self, all_checks: Sequence[CheckInfo]) -> str | None:
        node = self.fields.get("check")
        check = _text(node) if node is not None else None
        if node is None or not check:
            return None
        if check != ANY_CHECK and check not in self.checks:
            self.error(node, f"unknown check {check!r}; valid checks: "
                       f"{_known_checks(all_checks)} (or \"*\" for every check of one mailbox)")
            return None
        return check

    def _mailbox(self, check: str | None) -> str | None:
        node = self.fields.get("mailbox")
        mailbox = (_text(node) or "").lower() if node is not None else ""
        info = self.checks.get(check or "")
        where = node if node is not None else self.node
        if not mailbox:
            if check == ANY_CHECK:
                self.error(where, 'check "*" needs one exact mailbox address')
            elif info is not None and info.scope is Scope.MAILBOX and not info.tenant_summary:
                self.error(where, f"{check} is reported per mailbox: name the mailbox "
                           "(an address or a pattern such as room-*@contoso.com)")
            return None
        if "@" not in mailbox or any(c.isspace() for c in mailbox):
            self.error(where, f"mailbox {mailbox!r} is not an address or an address pattern "
                       "(such as room-*@contoso.com)")
        elif check == ANY_CHECK and is_pattern(mailbox):
            self.error(where, 'check "*" takes one exact mailbox address, not a pattern: '
                       "name the checks for a pattern one by one")
        elif info is not None and info.scope is Scope.TENANT:
            self.error(where, f"{check} is tenant-wide: leave mailbox out")
        return mailbox

    def _expires(self) -> dt.date | None:
        node = self.fields.get("expires")
        text = _text(node) if node is not None else None
        if node is None or not text:
            return None
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            self.error(node, f"expires {text!r} is not an ISO date: write it as YYYY-MM-DD")
            return None


def parse_exceptions(text: str, source: str, checks: Sequence[CheckInfo]
                     ) -> tuple[FindingException, ...]:
    """The exceptions a file's text declares, in file order. Raises InputError naming every
    bad entry (one line each, FILE:LINE first)."""
    root = compose(text, source)
    if root is None:
        return ()  # an empty file accepts nothing
    items = _items(root, source)
    by_id = {info.id: info for info in checks}
    errors: list[str] = []
    found: list[FindingException] = []
    seen: dict[tuple[str, str | None], int] = {}
    for node in items:
        exception = _Entry(node, source, by_id, errors).read(checks)
        if exception is None:
            continue
        key = (exception.check, exception.mailbox)
        if key in seen:
            errors.append(f"{source}:{_line(node)}: {exception.label} is already accepted on "
                          f"line {seen[key]}; keep one entry")
            continue
        seen[key] = _line(node)
        found.append(exception)
    if errors:
        count = f"{len(errors)} problem{'s' if len(errors) > 1 else ''}"
        raise InputError(f"{source}: {count}, no exception was applied (fix each line "
                         "named):\n" + "\n".join(errors))
    return tuple(found)


def exception_from_values(values: Mapping[str, str | None], source: str,
                          checks: Sequence[CheckInfo]) -> FindingException:
    """One exception given as plain values (the command line's options), checked exactly
    as a file's entry is; errors name `source` instead of a line."""
    entry = {key: value for key, value in values.items() if value is not None}
    node = yaml.compose(yaml.safe_dump(entry), Loader=yaml.SafeLoader)
    assert node is not None  # safe_dump of a mapping is never empty
    errors: list[str] = []
    exception = _Entry(node, source, {i.id: i for i in checks}, errors, lines=False).read(checks)
    if errors or exception is None:
        raise InputError("\n".join(errors) or f"{source}: not a valid exception")
    return exception


def _items(root: yaml.Node, source: str) -> list[yaml.Node]:
    shape = f"{source}:{_line(root)}: expected a mapping with an `exceptions:` list"
    if not isinstance(root, yaml.MappingNode):
        raise InputError(shape)
    items: list[yaml.Node] | None = None
    for key_node, value_node in root.value:
        key = _text(key_node)
        if key != "exceptions":
            raise InputError(f"{source}:{_line(key_node)}: unknown key {key!r} "
                             "(the file holds one key, exceptions)")
        if isinstance(value_node, yaml.ScalarNode) and value_node.tag.endswith(":null"):
            items = []
        elif not isinstance(value_node, yaml.SequenceNode):
            raise InputError(f"{source}:{_line(value_node)}: exceptions must be a list")
        else:
            items = list(value_node.value)
    if items is None:
        raise InputError(shape)
    return items


def load_exceptions(path: Path, checks: Sequence[CheckInfo] | None = None
                    ) -> tuple[FindingException, ...]:
    """Read an exceptions file (checks: the catalogue's, unless given)."""
    if checks is None:
        from mailwarden.assess.checks import CATALOGUE

        checks = [check.info for check in CATALOGUE]
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"{path}: cannot read the exceptions file ({exc.strerror}); give "
                         "the path of a YAML file with an `exceptions:` list") from exc
    return parse_exceptions(text, str(path), checks)
