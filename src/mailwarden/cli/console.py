"""`mailwarden console`: the web console over the history database, and invites to it."""

from __future__ import annotations

import socket
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from mailwarden.cli import app
from mailwarden.cli.report import DbOpt
from mailwarden.cli.ui import console, err_console, who_records
from mailwarden.errors import ConfigError
from mailwarden.settings import load_settings

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from mailwarden.console.config import AuthMode
    from mailwarden.console.context import Console

console_app = typer.Typer(
    help="The web console over the history database: incidents, exceptions, remediation "
    "with a second person's approval, access reviews by custodians, the audit log.\n\n"
    "Exit codes: 0 stopped; 2 bad usage, or the address cannot be used; 5 the history "
    "database cannot be opened; 70 internal error.",
    invoke_without_command=True, no_args_is_help=False)
app.add_typer(console_app, name="console")

HostOpt = Annotated[str, typer.Option(
    "--host", help="Address to listen on. Local mode listens on loopback only (127.0.0.1, "
    "::1, localhost); team mode may listen anywhere, behind HTTPS.")]
PortOpt = Annotated[int, typer.Option("--port", help="Port to listen on; 0 picks a free one.")]
PublicUrlOpt = Annotated[str | None, typer.Option(
    "--public-url", help="The address people reach the console at (https://... behind a "
    "reverse proxy); links in messages use it. Default: http://HOST:PORT.")]


def _auth(value: str) -> AuthMode:
    from mailwarden.console.config import AuthMode

    try:
        return AuthMode(value)
    except ValueError:
        raise ConfigError(f"--auth {value!r}: use local (a token printed here) or entra "
                          "(Entra ID sign-in for a team)") from None


@console_app.callback()
def console_command(
    ctx: typer.Context,
    db: DbOpt = None,
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8765,
    auth: Annotated[str, typer.Option(
        "--auth", help="local: this prints a sign-in URL holding a random token, which "
        "signs in as admin (invite more people with `mailwarden console invite`); entra: "
        "people sign in with Entra ID and the application's app roles give their role.")
    ] = "local",
    public_url: PublicUrlOpt = None,
    name: Annotated[str | None, typer.Option(
        "--name", help="Local mode: your name in the audit log (default: the OS user).")
    ] = None,
    config_file: Annotated[Path | None, typer.Option(
        "--config", help="A settings file (as every command's --config): the tenant the "
        "remediation pages plan and apply for (the credential from the environment, as "
        "always), the overview's staleness limits, and team mode's Entra ID application. "
        "Without it, change requests can be read and decided but not planned or applied.")
    ] = None,
    routing: Annotated[Path | None, typer.Option(
        "--routing", help="A routing file whose email channels carry access reviews' links "
        "to custodians (see docs/routing.md). Without it reviews start but send no mail.")
    ] = None,
) -> None:
    """Serve the web console until Ctrl-C (or SIGTERM).

    In local mode (the default) it listens on 127.0.0.1 and prints, once, a URL holding a
    random token: opening it signs you in as admin, and the token is never logged. In team
    mode (`--auth entra`) people sign in with Entra ID.

    Exit codes: 0 stopped; 2 bad usage, or the address cannot be used; 5 the history
    database cannot be opened; 70 internal error."""
    if ctx.invoked_subcommand is not None:
        return
    from mailwarden.console.app import build_console, create_app
    from mailwarden.console.config import ConsoleConfig, freshness_limits
    from mailwarden.console.serve import bind, check_host

    mode = _auth(auth)
    check_host(host, mode)
    if public_url is not None and not public_url.startswith(("http://", "https://")):
        raise ConfigError(f"--public-url {public_url!r}: give an http:// or https:// URL")
    owner = who_records(name)
    sock = bind(host, port)
    bound = sock.getsockname()[1]
    if config_file is not None and not config_file.is_file():
        raise ConfigError(f"--config {config_file}: no such settings file")
    settings = load_settings(toml_path=config_file)
    limits = freshness_limits(settings)
    config = ConsoleConfig(db_url=db, host=host, port=bound, auth=mode, public_url=public_url,
                           owner_name=owner, settings_file=config_file, routing=routing,
                           stale_posture=limits["stale_posture"], stale_logs=limits["stale_logs"])
    try:
        parts = build_console(config, settings=settings)
    except BaseException:
        sock.close()
        raise
    open_console(create_app(parts), sock, sign_in_url=sign_in_url(parts))


def sign_in_url(parts: Console) -> str:
    """The URL to open: in local mode it holds the token (printed once, never logged)."""
    base = parts.config.base_url
    if parts.local_token is None:
        return f"{base}/"
    return f"{base}/login?token={parts.local_token}"


def open_console(web: Starlette, sock: socket.socket, *, sign_in_url: str) -> None:
    """Serve until stopped, printing the sign-in URL once it accepts connections."""
    from mailwarden.console.serve import serve

    def ready() -> None:
        err_console.print("console ready; open this URL to sign in (stop with Ctrl-C):",
                          markup=False)
        console.print(sign_in_url, markup=False, highlight=False, soft_wrap=True)
        sys.stdout.flush()

    serve(web, sock, on_ready=ready)
    err_console.print("console stopped", markup=False)


@console_app.command("invite")
def invite(
    name: Annotated[str, typer.Argument(help="Who you invite (shown in the audit log).")],
    role: Annotated[str, typer.Option(
        "--role", help="viewer, responder, approver or admin.")] = "viewer",
    expires: Annotated[str, typer.Option(
        "--expires", help="How long the invite works: 24h, 3d (at most 14 days).")] = "24h",
    db: DbOpt = None,
    port: PortOpt = 8765,
    public_url: PublicUrlOpt = None,
    by: Annotated[str | None, typer.Option(
        "--by", help="Who invites (default: the OS user name).")] = None,
) -> None:
    """Invite a second person to a local-mode console: prints a link that signs them in
    once, with ROLE, until it expires (a change needs a second person to approve it).

    Only the link's hash is stored. Send it to that person only; anyone holding it can use
    it once.

    Exit codes: 0 the invite was made; 2 bad usage; 5 the history database cannot be
    written; 70 internal error."""
    from mailwarden.console.config import ConsoleConfig
    from mailwarden.console.invites import InviteStore
    from mailwarden.console.roles import Role
    from mailwarden.store.history import History
    from mailwarden.watch.durations import parse_duration

    try:
        chosen = Role(role)
    except ValueError:
        raise ConfigError(f"--role {role!r}: use viewer, responder, approver or admin") from None
    lifetime = parse_duration(expires, what="--expires")
    base = ConsoleConfig(db_url=db, port=port, public_url=public_url).base_url
    with History.open(db) as history:
        issued = InviteStore(history).issue(name=name, role=chosen, created_by=who_records(by),
                                            now=datetime.now(UTC), lifetime=lifetime)
    err_console.print(Text(f"invite for {issued.invite.name} as {chosen.value}, until "
                           f"{issued.invite.expires_at:%Y-%m-%d %H:%M} UTC; send this link "
                           "to them only:"), soft_wrap=True)
    console.print(issued.url(base), markup=False, highlight=False, soft_wrap=True)
