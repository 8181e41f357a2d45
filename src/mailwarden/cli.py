"""The mailwarden command line: the only place that prints, prompts, or sets exit codes."""

from __future__ import annotations

import typer

from mailwarden import __version__

app = typer.Typer(
    name="mailwarden",
    help="Find, harden and watch the Microsoft 365 mailboxes nobody owns.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Find, harden and watch the Microsoft 365 mailboxes nobody owns."""


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


def main() -> None:
    app()
