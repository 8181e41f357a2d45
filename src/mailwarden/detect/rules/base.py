"""What a detection rule is: metadata next to one SQL query over the normalized tables.

The query is a file shipped with the package, `sql/<rule id>.sql` beside this module;
the files in `SHARED_SQL` (views and macros the queries use) are run before them. A
rule's query returns one row per alert with these columns: target (UPN or NULL),
targets (VARCHAR[]), source_ips (VARCHAR[]), first_seen, last_seen (TIMESTAMP, UTC),
event_count (BIGINT), severity (NULL for the rule's default), group_key (what, besides
the target, separates alerts, e.g. the source IP), window_start (TIMESTAMP), facts (a
JSON object the summary is written from) and evidence (BIGINT[] of event ids).
Thresholds are bound as named parameters (`$min_accounts`), never formatted into SQL.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from mailwarden.model.findings import Severity

CATEGORIES: tuple[str, ...] = (
    "password-spray", "brute-force", "ownerless-sign-in", "legacy-protocol-auth",
    "leaver-access", "malicious-inbox-rule", "external-forwarding-set",
    "mailbox-permission-change", "non-owner-access", "mass-send", "password-reset",
    "sign-in-unblocked", "audit-tampering",
)

_PACKAGE = "mailwarden.detect.rules"
#: SQL files the rule queries use, run in this order once the tables are loaded.
SHARED_SQL: tuple[str, ...] = ("views.sql", "spray.sql")

RESULT_COLUMNS: tuple[str, ...] = (
    "target", "targets", "source_ips", "first_seen", "last_seen", "event_count", "severity",
    "group_key", "window_start", "facts", "evidence",
)


#: The phrases a summary template needs beyond the alert's fields, made from those fields.
Wording = Callable[[Mapping[str, Any]], Mapping[str, str]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Threshold:
    name: str
    default: float | int | bool
    doc: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    id: str
    category: str
    severity: Severity
    title: str
    description: str
    mitre: tuple[str, ...]
    #: Normalized tables the rule reads; it cannot run when they are all empty.
    tables: tuple[str, ...]
    #: Context parts the rule cannot run without.
    needs: tuple[str, ...] = ()
    #: Context parts that sharpen the rule when present (it runs without them).
    uses: tuple[str, ...] = ()
    thresholds: tuple[Threshold, ...] = ()
    #: `str.format` template over the facts, the alert's own fields and the wording.
    summary: str
    #: Counted nouns and optional clauses for the summary (see wording.py).
    wording: Wording | None = None

    @property
    def sql_file(self) -> str:
        """The query's file, relative to this package."""
        return f"sql/{self.id}.sql"

    @property
    def sql(self) -> str:
        return read_sql(self.sql_file)

    def parameters(self, overrides: dict[str, float | int | bool] | None = None,
                   *, evidence_limit: int = 50) -> dict[str, object]:
        """The bound parameters the query uses, with defaults unless overridden."""
        values: dict[str, object] = {t.name: t.default for t in self.thresholds}
        for name, value in (overrides or {}).items():
            if name in values:
                values[name] = value
        values["evidence_limit"] = evidence_limit
        used = set(re.findall(r"\$([a-z_]+)", self.sql))
        return {name: value for name, value in values.items() if name in used}


@cache
def read_sql(name: str) -> str:
    """The text of a SQL file of this package (a rule's query or a shared file)."""
    return resources.files(_PACKAGE).joinpath(*name.split("/")).read_text(encoding="utf-8")


def threshold(name: str, default: float | int | bool, doc: str) -> Threshold:
    return Threshold(name=name, default=default, doc=doc)


#: Entra sign-in result codes by what they say about the password.
RESULT_CODE_CLASSES: dict[str, tuple[int, ...]] = {
    # A guess that failed: bad password, unknown user, locked, disabled.
    "attempt": (50126, 50034, 50053, 50056, 50057),
    # The password was right, and something else stopped the sign-in: MFA required or
    # to be registered, keep-me-signed-in interrupt, expired password, conditional
    # access or device requirements, external security challenge.
    "password_ok": (50055, 50072, 50074, 50076, 50079, 50140, 50144, 50158,
                    53000, 53001, 53002, 53003, 53004),
    "lockout": (50053,),
    "disabled": (50057,),
}


def code_rows() -> list[tuple[int, str]]:
    return [(code, name) for name, codes in RESULT_CODE_CLASSES.items() for code in codes]
