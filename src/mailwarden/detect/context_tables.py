"""The tenant context as the rules' `ctx_*` tables: their shape and their rows.

The rows go in as one insert per table (columns as lists): a large tenant has tens of
thousands of grants, and a statement per row took minutes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from mailwarden.detect.context import DetectContext
from mailwarden.times import as_utc

CONTEXT_TABLES = (
    "CREATE TABLE ctx_ownerless (upn VARCHAR, id VARCHAR, kind VARCHAR)",
    # Every name a log may use for an ownerless mailbox, lower case, -> its UPN.
    "CREATE TABLE ctx_ownerless_keys (key VARCHAR, upn VARCHAR)",
    "CREATE TABLE ctx_departed (upn VARCHAR, id VARCHAR, since TIMESTAMP)",
    "CREATE TABLE ctx_guests (upn VARCHAR, id VARCHAR)",
    "CREATE TABLE ctx_domains (domain VARCHAR)",
    "CREATE TABLE ctx_grants (mailbox VARCHAR, trustee VARCHAR, access_right VARCHAR, "
    "active BOOLEAN, removed_at TIMESTAMP)",
    "CREATE TABLE mw_codes (code INTEGER, class VARCHAR)",
)

#: Table -> (column types, rows), in the order of the table's columns.
TableRows = dict[str, tuple[Sequence[str], list[tuple[Any, ...]]]]


def _ownerless_keys(context: DetectContext) -> list[tuple[Any, ...]]:
    keys: list[tuple[Any, ...]] = []
    for account in context.ownerless or ():
        upn = account.upn.lower()
        names = {upn, upn.split("@")[0], *(a.lower() for a in account.aliases if a)}
        if account.id:
            names.add(account.id.lower())
        keys += [(name, upn) for name in sorted(names)]
    return keys


def context_rows(context: DetectContext, codes: Iterable[tuple[int, str]]) -> TableRows:
    return {
        "mw_codes": (("INTEGER", "VARCHAR"), [tuple(code) for code in codes]),
        "ctx_ownerless": (("VARCHAR",) * 3, [(a.upn.lower(), a.id, a.kind)
                                             for a in context.ownerless or ()]),
        "ctx_ownerless_keys": (("VARCHAR", "VARCHAR"), _ownerless_keys(context)),
        "ctx_departed": (("VARCHAR", "VARCHAR", "TIMESTAMP"),
                         [(d.upn.lower(), d.id, _naive(d.since))
                          for d in context.departed or ()]),
        "ctx_guests": (("VARCHAR", "VARCHAR"),
                       [(g.upn.lower(), g.id) for g in context.guests or ()]),
        "ctx_domains": (("VARCHAR",), [(d.lower().lstrip("@"),)
                                       for d in context.verified_domains or ()]),
        "ctx_grants": (("VARCHAR", "VARCHAR", "VARCHAR", "BOOLEAN", "TIMESTAMP"),
                       [(g.mailbox.lower(), g.trustee.lower(), g.right, g.active,
                         _naive(g.removed_at)) for g in context.grants or ()]),
    }


def _naive(moment: datetime | None) -> datetime | None:
    """DuckDB TIMESTAMP columns hold UTC without a zone."""
    return None if moment is None else as_utc(moment).replace(tzinfo=None)
