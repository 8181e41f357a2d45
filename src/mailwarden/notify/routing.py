"""The routing file: which alerts and findings go to which channels, and who receives them.

    # routing.yaml
    security_team: [secops@contoso.com]   # copied (Cc) on high and critical notices
    fallback: [it-admins@contoso.com]     # receives mail for mailboxes without a custodian
    channels:
      mail:                               # email: To the mailbox's custodian
        type: email
        url: mailtos://alerts%40contoso.com:PASSWORD@smtp.contoso.com:587?from=alerts@contoso.com
      soc-teams:                          # a Teams workflow / incoming-webhook URL
        type: teams
        url: https://contoso.webhook.office.com/webhookb2/...
      soc-slack:
        type: slack
        url: https://hooks.slack.com/services/T000/B000/XXXX
      siem:                               # CEF over syslog (RFC 5424), udp:// or tcp://
        type: syslog
        url: udp://siem.contoso.com:514
        facility: local4                  # optional, default local0
      ticketing:                          # the alert as in alerts.json plus routing info
        type: json
        url: https://tickets.contoso.com/hooks/mailwarden?token=SECRET
    routes:                               # every matching route adds its channels
      - match: {severities: [critical, high]}
        channels: [mail, soc-teams, siem]
      - match: {categories: [password-spray, brute-force]}
        channels: [soc-slack]
      - match: {checks: [sign-in-enabled, external-forwarding]}
        channels: [mail, ticketing]

A route's `match` may name `categories` (alert categories, SPEC section 7), `rules` (alert
rule ids), `checks` (check ids, for posture findings) and `severities`; every field given
must match, and an empty or absent `match` matches everything. Alerts never match a route
that names only checks, and findings never match one that names categories or rules.

Email goes To the custodian of each mailbox the notice is about; when none is known (the
`no-custodian` check), To the `fallback` list, else to the security team. The security
team is copied on high and critical notices. Channel URLs hold credentials: they are shown
only through `redact_url`, never logged, and never part of a repr or an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from mailwarden.errors import InputError
from mailwarden.model.findings import Severity
from mailwarden.notify.redact import Redactor, redact_url
from mailwarden.notify.yamlnodes import (
    Located,
    LocatedError,
    Problems,
    did_you_mean,
    located,
    scalar_list,
)

#: The security team is copied on notices this severe.
COPY_SECURITY_AT = frozenset({Severity.CRITICAL, Severity.HIGH})
_FACILITIES = {"kern": 0, "user": 1, "mail": 2, "daemon": 3, "auth": 4, "syslog": 5,
               "authpriv": 10, **{f"local{n}": 16 + n for n in range(8)}}
_SCHEMES = {
    "email": ("mailto", "mailtos"),
    "teams": ("https", "http"),
    "slack": ("https", "http"),
    "json": ("https", "http"),
    "syslog": ("udp", "tcp"),
}


class ChannelType(StrEnum):
    EMAIL = "email"
    TEAMS = "teams"
    SLACK = "slack"
    JSON = "json"
    SYSLOG = "syslog"


@dataclass(frozen=True, slots=True, kw_only=True)
class Channel:
    name: str
    type: ChannelType
    url: str = field(repr=False)
    facility: int = 16
    origin: str = ""

    @property
    def shown_url(self) -> str:
        return redact_url(self.url)

    def __repr__(self) -> str:
        return f"Channel(name={self.name!r}, type={self.type.value}, url={self.shown_url!r})"


@dataclass(frozen=True, slots=True, kw_only=True)
class Match:
    categories: frozenset[str] | None = None
    rules: frozenset[str] | None = None
    checks: frozenset[str] | None = None
    severities: frozenset[str] | None = None

    def accepts(self, *, kind: str, category: str | None, rule_id: str | None,
                check_id: str | None, severity: str) -> bool:
        if self.severities is not None and severity not in self.severities:
            return False
        if kind == "alert":
            if self.checks is not None and self.categories is None and self.rules is None:
                return False
            return (self.categories is None or category in self.categories) and (
                self.rules is None or rule_id in self.rules)
        if self.categories is not None or self.rules is not None:
            return False
        return self.checks is None or check_id in self.checks


@dataclass(frozen=True, slots=True, kw_only=True)
class Route:
    match: Match
    channels: tuple[str, ...]
    origin: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Routing:
    source: str
    channels: Mapping[str, Channel]
    routes: tuple[Route, ...]
    security_team: tuple[str, ...] = ()
    fallback: tuple[str, ...] = ()

    def channels_for(self, *, kind: str, category: str | None, rule_id: str | None,
                     check_id: str | None, severity: str) -> tuple[Channel, ...]:
        """The channels of every matching route, each once, in file order."""
        names: dict[str, None] = {}
        for route in self.routes:
            if route.match.accepts(kind=kind, category=category, rule_id=rule_id,
                                   check_id=check_id, severity=severity):
                names.update(dict.fromkeys(route.channels))
        return tuple(self.channels[name] for name in names)

    @property
    def redactor(self) -> Redactor:
        return Redactor.for_urls(channel.url for channel in self.channels.values())


@dataclass(frozen=True, slots=True, kw_only=True)
class Catalogue:
    """The names a route may match on; unknown ones are errors, not silent non-matches."""

    categories: tuple[str, ...]
    rules: tuple[str, ...]
    checks: tuple[str, ...]

    @classmethod
    def current(cls) -> Catalogue:
        from mailwarden.assess import list_checks
        from mailwarden.detect import ALL_RULES, CATEGORIES

        return cls(categories=CATEGORIES, rules=tuple(r.id for r in ALL_RULES),
                   checks=tuple(c.id for c in list_checks()))


def load_routing(path: Path, catalogue: Catalogue | None = None) -> Routing:
    """Read and validate a routing file; every problem names the file and line, and all of
    them are reported at once (docs/routing.md describes the format)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"{path}: cannot read the routing file ({exc.strerror})") from exc
    return parse_routing(text, str(path), catalogue or Catalogue.current())


def parse_routing(text: str, source: str, catalogue: Catalogue) -> Routing:
    """A routing file checked whole: every problem is listed, each with its line."""
    root = located(text, source)
    problems = Problems(source)
    fields = root.mapping({"channels", "routes", "security_team", "fallback"},
                          required={"channels", "routes"}, problems=problems)
    defined: dict[str, Channel | None] = {}
    if "channels" in fields:
        with problems.unit():
            for name, node in fields["channels"].items_of(problems):
                defined[name] = None  # named: routes may use it even if it has problems
                with problems.unit():
                    defined[name] = _channel(name, node, problems)
            if not defined:
                raise fields["channels"].error("name at least one channel")
    routes: list[Route] = []
    if "routes" in fields:
        with problems.unit():
            nodes = fields["routes"].sequence()
            if not nodes:
                raise fields["routes"].error("give at least one route")
            for node in nodes:
                with problems.unit():
                    routes.append(_route(node, tuple(defined), catalogue, problems))
    team = _addresses(fields.get("security_team"), problems)
    fallback = _addresses(fields.get("fallback"), problems)
    problems.raise_any()
    channels = {name: channel for name, channel in defined.items() if channel is not None}
    return Routing(source=source, channels=channels, routes=tuple(routes),
                   security_team=team, fallback=fallback)


def _addresses(node: Located | None, problems: Problems) -> tuple[str, ...]:
    if node is None:
        return ()
    try:
        values = scalar_list(node)
    except LocatedError as exc:
        problems.add(exc)
        return ()
    for value in values:
        if "@" not in value.text or " " in value.text.strip():
            problems.add(value.error(f"{value.text!r} is not an email address"))
    return tuple(v.text.strip().lower() for v in values)


def _channel(name: str, node: Located, problems: Problems) -> Channel | None:
    """The channel `node` defines; None (its problems recorded) when it has any."""
    before = len(problems.found)
    fields = node.mapping({"type", "url", "facility"}, required={"type", "url"},
                          problems=problems)
    kind: ChannelType | None = None
    if "type" in fields:
        kind_text = fields["type"].text
        try:
            kind = ChannelType(kind_text)
        except ValueError:
            allowed = [t.value for t in ChannelType]
            problems.add(fields["type"].error(
                f"channel {name}: type {kind_text!r}{did_you_mean(kind_text, allowed)} is not "
                f"one of {', '.join(allowed)}"))
    url = fields["url"].text.strip() if "url" in fields else ""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if kind is not None and "url" in fields and scheme not in _SCHEMES[kind.value]:
        schemes = " or ".join(f"{s}://" for s in _SCHEMES[kind.value])
        article = "an" if kind.value[0] in "aeiou" else "a"
        problems.add(fields["url"].error(f"channel {name}: {article} {kind.value} URL starts "
                                         f"with {schemes} (got {redact_url(url)})"))
    facility = 16
    if "facility" in fields:
        text = fields["facility"].text.lower()
        if kind is not None and kind is not ChannelType.SYSLOG:
            problems.add(fields["facility"].error(
                f"channel {name}: only syslog channels take facility"))
        elif text not in _FACILITIES:
            problems.add(fields["facility"].error(
                f"channel {name}: unknown facility {text!r}{did_you_mean(text, _FACILITIES)} "
                f"(use one of {', '.join(_FACILITIES)})"))
        else:
            facility = _FACILITIES[text]
    if kind is None or len(problems.found) > before:
        return None
    return Channel(name=name, type=kind, url=url, facility=facility, origin=node.where)


def _route(node: Located, channels: tuple[str, ...], catalogue: Catalogue,
           problems: Problems) -> Route:
    fields = node.mapping({"match", "channels"}, required={"channels"}, problems=problems)
    names = scalar_list(fields["channels"]) if "channels" in fields else []
    for name in names:
        if name.text not in channels:
            problems.add(name.error(
                f"route names channel {name.text!r}{did_you_mean(name.text, channels)}, which "
                f"is not defined (defined: {', '.join(channels) or 'none'})"))
    match = Match()
    if "match" in fields:
        with problems.unit():
            match = _match(fields["match"], catalogue, problems)
    return Route(match=match, channels=tuple(n.text for n in names), origin=node.where)


#: What one item of each match key is called in an error message.
_SINGULAR = {"categories": "category", "checks": "check", "severities": "severity",
             "rules": "rule"}


def _match(node: Located, catalogue: Catalogue, problems: Problems) -> Match:
    if node.is_null:
        return Match()
    known: dict[str, tuple[str, ...]] = {
        "categories": catalogue.categories, "checks": catalogue.checks,
        "severities": tuple(s.value for s in Severity), "rules": catalogue.rules}
    fields = node.mapping(set(known), problems=problems)
    values: dict[str, Any] = {}
    for key, child in fields.items():
        with problems.unit():
            items = scalar_list(child)
            allowed = known[key]
            for item in items:
                if item.text not in allowed:
                    more = ", ..." if len(allowed) > 20 else ""
                    problems.add(item.error(
                        f"unknown {_SINGULAR[key]} {item.text!r}"
                        f"{did_you_mean(item.text, allowed)} "
                        f"(known: {', '.join(allowed[:20])}{more})"))
            values[key] = frozenset(item.text for item in items)
    return Match(**values)
