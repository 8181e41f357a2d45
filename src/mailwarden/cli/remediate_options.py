"""The options `remediate plan|apply|export|rollback|show` share, and the plan options they
make."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from mailwarden.remediate.plan import PlanOptions

FromDirOpt = Annotated[
    Path | None, typer.Option("--from-dir", help="Findings from a recorded tenant (offline).")
]
CheckOpt = Annotated[list[str] | None, typer.Option("--check", help="Only this check (repeat).")]
MailboxOpt = Annotated[
    list[str] | None,
    typer.Option("--mailbox", help="Only this mailbox (repeat); also admits one whose account "
                 "holds a directory role."),
]
ExcludeOpt = Annotated[
    list[str] | None, typer.Option("--exclude", help="Never touch this mailbox (repeat).")
]
EwsOpt = Annotated[bool, typer.Option("--include-ews", help="Also turn EWS off.")]
ActiveSyncOpt = Annotated[
    bool, typer.Option("--include-activesync", help="Also turn ActiveSync off.")
]
ExternalOpt = Annotated[
    bool,
    typer.Option("--include-external-delegates", help="Also remove stale grants held by guests "
                 "and external people (they are not leavers; left in place by default)."),
]
MaxAgeOpt = Annotated[
    float, typer.Option("--max-age", help="Refuse findings older than this many hours.")
]
ForceOpt = Annotated[bool, typer.Option("--force", help="Act on findings older than --max-age.")]
JournalOpt = Annotated[
    Path | None,
    typer.Option("--journal-dir", help="Journal runs as JSON files in this directory instead "
                 "of the history database (also MAILWARDEN_JOURNAL_DIR)."),
]
DbOpt = Annotated[
    str | None,
    typer.Option("--db", help="History database holding the journal: a path or a "
                 "postgresql:// URL (default: MAILWARDEN_DB, else the per-user history.db)."),
]
ActionOpt = Annotated[list[str] | None, typer.Option("--action", help="Only this action id.")]
AppScopeOpt = Annotated[
    str | None,
    typer.Option("--app-scope-group", help="Restrict each unscoped app's Entra ID mail grants "
                 "to this mail-enabled security group (New-ApplicationAccessPolicy)."),
]
RemoveGrantsOpt = Annotated[
    bool,
    typer.Option("--remove-app-grants", help="Also remove unscoped apps' Entra ID mail grants "
                 "(the apps lose that access: say so only when you mean it)."),
]
BreakGlassOpt = Annotated[
    list[str] | None,
    typer.Option("--break-glass", help="A break-glass account (UPN or object id; repeat): "
                 "excluded from every conditional-access change (default: the setting "
                 "break_glass, MAILWARDEN_BREAK_GLASS)."),
]


def plan_options(
    check: list[str] | None, mailbox: list[str] | None, exclude: list[str] | None,
    ews: bool, activesync: bool, max_age: float, force: bool, external: bool = False,
    break_glass: tuple[str, ...] = (), app_scope_group: str | None = None,
    remove_app_grants: bool = False,
) -> PlanOptions:
    return PlanOptions(
        checks=tuple(check or ()), mailboxes=tuple(m.lower() for m in mailbox or ()),
        exclude=tuple(e.lower() for e in exclude or ()), include_ews=ews,
        include_activesync=activesync, max_age=timedelta(hours=max_age), force=force,
        include_external_delegates=external, break_glass=break_glass,
        app_scope_group=app_scope_group, remove_app_grants=remove_app_grants,
    )
