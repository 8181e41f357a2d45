"""The options that say how to reach a tenant, shared by every command that reaches one,
and the one session with Microsoft 365 such a command opens."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from mailwarden.cli.ui import err_console
from mailwarden.errors import ConfigError, DeadlineReachedError
from mailwarden.m365.session import M365Session
from mailwarden.pipeline import collect_to_directory
from mailwarden.settings import AuthMethod, CollectMode, Settings, load_settings
from mailwarden.tenant.recorded import RecordedTenant
from mailwarden.text import plural
from mailwarden.watch.durations import parse_duration

_CONNECT = "Connection"

TenantOpt = Annotated[
    str | None,
    typer.Option("--tenant", help="Tenant id or verified domain.", rich_help_panel=_CONNECT),
]
ClientIdOpt = Annotated[
    str | None,
    typer.Option("--client-id", help="Application (client) id.", rich_help_panel=_CONNECT),
]
CertificateOpt = Annotated[
    Path | None,
    typer.Option(
        "--certificate",
        help="PEM file with the app's certificate and private key (preferred). Without it, "
        "the client secret is read from the environment variable MAILWARDEN_CLIENT_SECRET.",
        rich_help_panel=_CONNECT,
    ),
]
DeviceCodeOpt = Annotated[
    bool,
    typer.Option("--device-code", help="Sign in as a person with a device code.",
                 rich_help_panel=_CONNECT),
]
CloudOpt = Annotated[
    str | None,
    typer.Option("--cloud", help="global, usgov, dod or china.", rich_help_panel=_CONNECT),
]
LoginUrlOpt = Annotated[
    str | None, typer.Option("--login-url", help="Override the login endpoint.",
                             rich_help_panel=_CONNECT)
]
GraphUrlOpt = Annotated[
    str | None, typer.Option("--graph-url", help="Override the Graph endpoint.",
                             rich_help_panel=_CONNECT)
]
ExoUrlOpt = Annotated[
    str | None, typer.Option("--exo-url", help="Override the Exchange Online endpoint.",
                             rich_help_panel=_CONNECT)
]
CaBundleOpt = Annotated[
    Path | None,
    typer.Option("--ca-bundle", help="Trust only this CA certificate file for HTTPS.",
                 rich_help_panel=_CONNECT),
]
ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", help="A TOML settings file (no secrets in it).",
                 rich_help_panel=_CONNECT),
]
SequentialOpt = Annotated[
    bool,
    typer.Option(
        "--sequential",
        help="Collect one request at a time with default page sizes and no $select or "
        "$batch: the naive baseline that benchmarks compare against.",
        rich_help_panel=_CONNECT,
    ),
]
DeadlineOpt = Annotated[
    str | None,
    typer.Option(
        "--deadline",
        help="How long the whole collection may take (90s, 15m, 2h, 1h30m); then it keeps "
        "what it has read, records the unfinished sources as failed (\"deadline reached\") "
        "and exits 4. Default 2h: a tenant's size is not known before it is read, and the "
        "largest emulated tenant is read in minutes (45 with --sequential), so a "
        "collection still running after 2h is stuck. Also the setting collect_deadline "
        "(seconds).",
        rich_help_panel=_CONNECT,
    ),
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Connection:
    tenant: str | None = None
    client_id: str | None = None
    certificate: Path | None = None
    device_code: bool = False
    cloud: str | None = None
    login_url: str | None = None
    graph_url: str | None = None
    exo_url: str | None = None
    ca_bundle: Path | None = None
    config: Path | None = None
    sequential: bool = False
    deadline: str | None = None

    @classmethod
    def of(cls, options: Mapping[str, Any]) -> Connection:
        """The connection a command's options describe (pass the command's `locals()`):
        every command that reaches a tenant takes the same options under the same names."""
        names = {f.name for f in fields(cls)}
        return cls(**{name: value for name, value in options.items() if name in names})

    def settings(self) -> Settings:
        if self.certificate is not None and self.device_code:
            raise ConfigError("choose one of --certificate and --device-code")
        if self.ca_bundle is not None and not self.ca_bundle.is_file():
            raise ConfigError(f"{self.ca_bundle}: CA bundle not found")
        if self.config is not None and not self.config.is_file():
            raise ConfigError(f"{self.config}: settings file not found")
        settings = load_settings(
            toml_path=self.config,
            tenant=self.tenant,
            client_id=self.client_id,
            cloud=self.cloud,
            certificate_path=self.certificate,
            auth=AuthMethod.DEVICE_CODE if self.device_code else None,
            login_url=self.login_url,
            graph_url=self.graph_url,
            exo_url=self.exo_url,
            ca_bundle=self.ca_bundle,
            collect_mode=CollectMode.SEQUENTIAL if self.sequential else None,
            collect_deadline=None if self.deadline is None
            else parse_duration(self.deadline, what="--deadline").total_seconds(),
        )
        settings.require_tenant()
        settings.require_client_id()
        return settings


def show_device_code(message: str) -> None:
    err_console.print(message, soft_wrap=True)


def open_session(settings: Settings) -> M365Session:
    """The command's one session with Microsoft 365 (a device code is shown on stderr):
    every step of the command runs through it, so a person signs in once."""
    return M365Session(settings, on_device_code=show_device_code)


@dataclass(frozen=True, slots=True, kw_only=True)
class Collected:
    """What a command collected, and why it stopped early when it did (the deadline)."""

    recorded: RecordedTenant
    stopped: DeadlineReachedError | None = None


def collect_with_progress(connection: Connection, out: Path, *, quiet: bool) -> Collected:
    """Collect into `out`; a collection that reaches its deadline is kept, not raised."""
    from mailwarden.cli.ui import progress_board

    settings = connection.settings()
    with progress_board(enabled=not quiet) as board, open_session(settings) as session:
        try:
            return Collected(recorded=collect_to_directory(session, out, progress=board))
        except DeadlineReachedError as exc:
            if not isinstance(exc.partial, RecordedTenant):
                raise
            return Collected(recorded=exc.partial, stopped=exc)


def report_stopped(collected: Collected) -> bool:
    """Say why a collection stopped early; True when it did (a partial result)."""
    if collected.stopped is None:
        return False
    err_console.print(f"error: {collected.stopped}", markup=False, soft_wrap=True)
    return True


def exit_if_stopped(collected: Collected) -> None:
    """Say why a collection stopped early and exit with the partial-result code (4)."""
    if collected.stopped is not None:
        report_stopped(collected)
        raise typer.Exit(code=collected.stopped.exit_code)


def report_failed_sources(recorded: RecordedTenant) -> bool:
    """Say what was not collected; True when a source (or a source for some mailboxes)
    failed. A licence limitation is not a failure: the tenant has nothing to read there."""
    for source, reason in sorted(recorded.limitations.items()):
        err_console.print(f"[cyan]licence limitation:[/] {escape(f'{source}: {reason}')}",
                          markup=True, soft_wrap=True)
    for source, message in sorted(recorded.errors.items()):
        err_console.print(f"[yellow]not collected:[/] {escape(f'{source}: {message}')}",
                          markup=True, soft_wrap=True)
    if recorded.errors:
        failed = len(recorded.errors)
        err_console.print(
            f"{plural(failed, 'source')} failed; {'it is' if failed == 1 else 'they are'} "
            "recorded in errors.json and the checks that need "
            f"{'it' if failed == 1 else 'them'} report error, not pass."
        )
    for source, mailboxes in sorted(recorded.mailbox_errors.items()):
        first = next(iter(mailboxes.values()), "")
        err_console.print(
            f"[yellow]not collected for {plural(len(mailboxes), 'mailbox', 'mailboxes')}:[/] "
            f"{escape(f'{source}: {first}')}; the rest are in errors.json, and the checks "
            "that need it report error for those mailboxes.",
            markup=True,
            soft_wrap=True,
        )
    return bool(recorded.errors or recorded.mailbox_errors)
