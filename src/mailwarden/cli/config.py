"""`mailwarden config init`: write a commented settings file with every key at its default."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mailwarden.cli import app
from mailwarden.cli.ui import console
from mailwarden.errors import ConfigError
from mailwarden.files import open_private_exclusive, write_private_text
from mailwarden.settings_doc import config_toml

config_app = typer.Typer(help="The settings file that --config reads.", no_args_is_help=True)
app.add_typer(config_app, name="config")


@config_app.command("init")
def init_command(
    out: Annotated[Path, typer.Option("--out", help="Where to write it.")] = Path(
        "mailwarden.toml"),
    force: Annotated[bool, typer.Option("--force", help="Replace a file that is there.")] =
    False,
) -> None:
    """Write a commented TOML settings file: every key with its default, its meaning, its
    choices and the environment variable that overrides it (docs/config.md has the same).
    Keys that are not set by default are commented out with an example. The file is
    readable by its owner only (0600); it holds no secret. Pass it as --config FILE.

    Exit codes: 0 written; 2 the file is there (pass --force to replace it) or cannot be
    written; 70 internal error."""
    text = config_toml()
    if force:
        write_private_text(out, text)
    else:
        try:
            with open_private_exclusive(out) as handle:
                handle.write(text.encode("utf-8"))
        except FileExistsError:
            raise ConfigError(f"{out}: the file is there; pass --force to replace it, or "
                              "--out to write another") from None
    console.print(f"wrote {out}", markup=False)
