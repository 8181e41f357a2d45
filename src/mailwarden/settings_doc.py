"""What each setting means, and the two documents made from it: the commented TOML file
`mailwarden config init` writes and the table of docs/config.md.

`DOCS` is the one place a setting's meaning is written. Its keys are the fields of
`Settings` (and of the tables in it, such as `retry`); the defaults, types, choices and
environment variables come from `settings.py` itself, so neither document can drift from
the code: a field without an entry here makes `config init` fail, and the tests say which.
"""

from __future__ import annotations

import json
import textwrap
import typing
from dataclasses import dataclass, fields, is_dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from mailwarden.settings import ENV_VARS, SECRET_ENV, Settings


@dataclass(frozen=True, slots=True, kw_only=True)
class SettingDoc:
    text: str
    #: Shown (commented out) for a setting whose default is "not set".
    example: str | int | float | None = None


DOCS: dict[str, SettingDoc] = {
    "console_url": SettingDoc(text="The URL people open the web console at. When set, "
                              "`watch` puts a \"was this you?\" link to the console in each "
                              "email a custodian gets about an incident (signed with the "
                              "console's link key: MAILWARDEN_CONSOLE_SECRET, shared by the "
                              "console and the watcher); not set, messages carry no link.",
                              example="https://mailwarden.contoso.example"),
    "break_glass": SettingDoc(text="Break-glass (emergency access) accounts, by UPN or object "
                              "id: every conditional-access change remediation makes leaves "
                              "them excluded.", example='["bg1@contoso.onmicrosoft.com"]'),
    "exceptions_file": SettingDoc(text="An exceptions file (YAML) whose unexpired entries turn "
                                  "the failing findings they cover into accepted ones "
                                  "(scan, report, watch); see `mailwarden exceptions "
                                  "example`.", example="/etc/mailwarden/exceptions.yaml"),
    "tenant": SettingDoc(text="The tenant: its id (GUID) or a verified domain.",
                         example="contoso.onmicrosoft.com"),
    "client_id": SettingDoc(text="The application (client) id of the app registration "
                            "mailwarden signs in as.",
                            example="00000000-0000-0000-0000-000000000000"),
    "cloud": SettingDoc(text="The Microsoft cloud: its login, Graph and Exchange Online "
                        "endpoints and token audiences."),
    "auth": SettingDoc(text="How to sign in. Not set: certificate when certificate_path is "
                       f"given, else the client secret from {SECRET_ENV} (never a setting).",
                       example="certificate"),
    "certificate_path": SettingDoc(text="PEM file holding the app's certificate and its "
                                   "private key (preferred to a secret).",
                                   example="/etc/mailwarden/app.pem"),
    "login_url": SettingDoc(text="Overrides the cloud's login endpoint (a proxy, the "
                            "emulator).", example="https://127.0.0.1:8443"),
    "graph_url": SettingDoc(text="Overrides the cloud's Microsoft Graph endpoint.",
                            example="https://127.0.0.1:8443"),
    "exo_url": SettingDoc(text="Overrides the cloud's Exchange Online endpoint.",
                          example="https://127.0.0.1:8443"),
    "ca_bundle": SettingDoc(text="Trust this CA certificate file (and only it) for every "
                            "HTTPS call.", example="/etc/mailwarden/ca.pem"),
    "graph_concurrency": SettingDoc(text="Graph requests in flight at once."),
    "exo_concurrency": SettingDoc(text="Exchange Online requests in flight at once (Exchange "
                                  "limits concurrent requests per tenant)."),
    "graph_rate": SettingDoc(
        text="Each tenant's Microsoft Graph rate budget, in requests per second, each part of "
             "a `$batch` counting as one (Graph evaluates each request of a batch against its "
             "limits: learn.microsoft.com/graph/throttling, \"Throttling and batching\"). "
             "Requests wait for the budget rather than being throttled; a fleet's workers "
             "share each tenant's. Not set: no budget. Microsoft publishes no one Graph rate "
             "per tenant: its directory limit is 3,500, 5,000 or 8,000 resource units per "
             "10 s per app and tenant (under 50 users, 50 to 500, more), a request costing 1 "
             "to 5 units (learn.microsoft.com/graph/throttling-limits); see \"Rate budgets\" "
             "below.", example=150),
    "graph_burst": SettingDoc(
        text="Graph requests (batch parts) a tenant's budget lets through at once after a "
             "quiet spell, and the most it has unanswered: below graph_concurrency times "
             "20 (a full `$batch`) it holds requests back that the concurrency would send, "
             "and below 20 a full batch goes only alone. Not set: one second of "
             "graph_rate. Needs graph_rate.", example=150),
    "exo_rate": SettingDoc(
        text="Each tenant's Exchange Online (admin API) rate budget, in requests per second, "
             "each InvokeCommand of a `$batch` counting as one. Not set: no budget; Microsoft "
             "publishes no request rate per tenant for this API, only that it refuses "
             "requests beyond a few in flight (exo_concurrency).", example=10),
    "exo_burst": SettingDoc(
        text="Exchange requests (batch parts) a tenant's budget lets through at once after a "
             "quiet spell, and the most it has unanswered: below exo_concurrency times 10 "
             "(a full `$batch`) it holds requests back that the concurrency would send. Not "
             "set: one second of exo_rate. Needs exo_rate.", example=30),
    "retry": SettingDoc(text="How throttled (429, 503) and failed requests are retried."),
    "retry.max_attempts": SettingDoc(text="Tries per request, the first one included."),
    "retry.backoff_base": SettingDoc(text="Seconds before the first retry; doubled per "
                                     "attempt, with full jitter."),
    "retry.backoff_max": SettingDoc(text="The longest wait between tries, in seconds."),
    "retry.retry_after_max": SettingDoc(text="A Retry-After longer than this many seconds is "
                                        "capped, not obeyed."),
    "connect_timeout": SettingDoc(text="Seconds to wait for a connection."),
    "read_timeout": SettingDoc(text="Seconds to wait for an answer (Exchange cmdlets over "
                               "large tenants answer slowly)."),
    "collect_deadline": SettingDoc(text="Seconds a whole collection may take before it stops, "
                                   "keeps what it has read and exits 4 (--deadline)."),
    "console_client_id": SettingDoc(text="Console team mode: the application (client) id of "
                                    "the console's own app registration in Entra ID (a web "
                                    "app whose app roles Console.Viewer, Console.Responder, "
                                    "Console.Approver and Console.Admin are assigned to "
                                    "people); people sign in to it in the tenant and cloud "
                                    "above.", example="00000000-0000-0000-0000-000000000000"),
    "console_redirect_uri": SettingDoc(text="Console team mode: the redirect URI registered "
                                       "on that app, exactly (not set: the console's URL "
                                       "followed by /auth/callback).",
                                       example="https://mailwarden.contoso.com/auth/callback"),
    "console_certificate_path": SettingDoc(text="Console team mode: PEM file holding the "
                                           "console app's certificate and private key "
                                           "(preferred to a secret; a password comes from "
                                           "MAILWARDEN_CERTIFICATE_PASSWORD).",
                                           example="/etc/mailwarden/console.pem"),
    "console_client_secret_env": SettingDoc(text="Console team mode: the NAME of the environment "
                                     "variable holding the console app's client secret (the "
                                     "secret itself is never a setting).",
                                     example="MAILWARDEN_CONSOLE_CLIENT_SECRET"),
    "collect_mode": SettingDoc(text="fast is the real collector; sequential is the "
                               "one-request-at-a-time baseline benchmarks compare with "
                               "(--sequential)."),
    "console_stale_posture_hours": SettingDoc(
        text="The console's overview flags a tenant STALE when its latest collection of the "
             "posture (scan, report or the watcher's daily refresh) is older than this many "
             "hours."),
    "console_stale_logs_hours": SettingDoc(
        text="The console's overview flags a tenant STALE when its latest log pull (the "
             "newest stored run that analysed logs) is older than this many hours; a tenant "
             "whose logs were never analysed is shown so, not flagged."),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One setting as the documents show it."""

    key: str  # dotted for a key inside a table: retry.max_attempts
    default: Any  # None: not set
    kind: Any
    doc: SettingDoc
    env: str | None

    @property
    def choices(self) -> tuple[str, ...]:
        kind = _enum_of(self.kind)
        return tuple(member.value for member in kind) if kind is not None else ()


def _enum_of(kind: Any) -> type[StrEnum] | None:
    for option in (kind, *typing.get_args(kind)):
        if isinstance(option, type) and issubclass(option, StrEnum):
            return option
    return None


def entries(owner: type = Settings, prefix: str = "") -> list[Entry]:
    """Every setting, in the order `Settings` declares them; a table's keys follow it.
    Raises KeyError naming a field that has no entry in `DOCS`."""
    hints = typing.get_type_hints(owner)
    defaults = owner()
    found: list[Entry] = []
    for item in fields(owner):
        key = prefix + item.name
        if key not in DOCS:
            raise KeyError(f"settings_doc.DOCS has no entry for the setting {key!r}")
        default = getattr(defaults, item.name)
        found.append(Entry(key=key, default=default, kind=hints[item.name], doc=DOCS[key],
                           env=None if prefix else ENV_VARS.get(item.name)))
        if is_dataclass(default):
            found += entries(type(default), prefix=f"{key}.")
    return found


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, StrEnum):
        return json.dumps(value.value)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str | Path):
        return json.dumps(str(value))
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML form for {value!r}: teach settings_doc._toml_value it")


def _comment(entry: Entry) -> list[str]:
    text = entry.doc.text
    if entry.choices:
        text += f" One of: {', '.join(entry.choices)}."
    if entry.env:
        text += f" The environment variable {entry.env} wins over this file."
    return [f"# {line}" for line in textwrap.wrap(text, width=86)]


def config_toml() -> str:
    """The commented settings file: every key at its default (a key whose default is "not
    set" is commented out, with an example). Loading it gives the default settings."""
    out = ["# mailwarden settings (TOML). Use: mailwarden COMMAND --config mailwarden.toml",
           "# Priority, lowest first: these defaults, this file, MAILWARDEN_* environment",
           "# variables, command-line options. Secrets never go here: the client secret is",
           f"# read only from {SECRET_ENV}. docs/config.md describes every key.",
           "", "[mailwarden]"]
    tables: list[list[str]] = []
    for entry in entries():
        if "." in entry.key:
            continue
        if is_dataclass(entry.default):
            table = ["", *_comment(entry), f"[mailwarden.{entry.key}]"]
            for inner in entries():
                if inner.key.startswith(f"{entry.key}."):
                    name = inner.key.split(".", 1)[1]
                    table += [*_comment(inner), f"{name} = {_toml_value(inner.default)}"]
            tables.append(table)
            continue
        out += ["", *_comment(entry)]
        if entry.default is None:
            example = entry.doc.example or ""
            out.append(f"# {entry.key} = {_toml_value(example)}")
        else:
            out.append(f"{entry.key} = {_toml_value(entry.default)}")
    for table in tables:
        out += table
    return "\n".join(out) + "\n"


def config_markdown() -> str:
    """The table of every key for docs/config.md."""
    rows = ["| key | default | environment | meaning |", "| --- | --- | --- | --- |"]
    for entry in entries():
        if is_dataclass(entry.default):
            default = f"table `[mailwarden.{entry.key}]`"
        elif entry.default is None:
            default = "not set"
        else:
            default = f"`{_toml_value(entry.default)}`"
        meaning = entry.doc.text
        if entry.choices:
            meaning += f" One of: {', '.join(f'`{c}`' for c in entry.choices)}."
        env = f"`{entry.env}`" if entry.env else ""
        rows.append(f"| `{entry.key}` | {default} | {env} | {meaning} |")
    return "\n".join(rows) + "\n"
