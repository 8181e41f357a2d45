"""The mailwarden command line: the only place that prints, prompts, or sets exit codes."""

from __future__ import annotations

import importlib
import sys
import traceback

import typer
from rich.markup import escape

from mailwarden import __version__
from mailwarden.cli.ui import err_console
from mailwarden.errors import MailwardenError

app = typer.Typer(
    name="mailwarden",
    help="Find, harden and watch the Microsoft 365 mailboxes nobody owns.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    # Markdown reflows the help paragraphs to the terminal's width; in "rich" mode every line
    # break of a docstring stays, and the command list breaks sentences mid-way.
    rich_markup_mode="markdown",
)

_state = {"debug": False}


def _version(value: bool) -> None:
    if value:
        typer.echo(__version__)
        raise typer.Exit()


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """Find, harden and watch the Microsoft 365 mailboxes nobody owns."""
    _state["debug"] = debug


#: Modules that add commands to `app` when imported.
COMMAND_MODULES = ("compliance", "config", "demo", "detect", "doctor", "emulator", "logs",
                   "notify", "remediate", "report", "tenant", "watch", "alerts", "exceptions",
                   "fleet", "worker", "console", "reviews")


def _register() -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(f"mailwarden.cli.{name}")


def command_app() -> typer.Typer:
    """The app with every command registered (tests drive it with typer's CliRunner)."""
    _register()
    return app


def main() -> None:
    _register()
    try:
        app()  # usage errors and --help are handled (and exit) inside
    except MailwardenError as exc:
        if _state["debug"]:
            traceback.print_exc()
        # The message is plain text: a "[redacted]" or a path's "[...]" is not markup.
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", markup=True,
                          soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
    except Exception as exc:  # a bug: say so in one line, show the traceback with --debug
        if _state["debug"]:
            traceback.print_exc()
        else:
            err_console.print(
                f"[bold red]internal error:[/] {type(exc).__name__}: {escape(str(exc))} "
                "(run again with --debug for the traceback)",
                markup=True,
                soft_wrap=True,
            )
        sys.exit(70)
