"""`--exceptions FILE` on scan, report and watch, and where the file comes from when it is
not given: the settings file's `exceptions_file` (--config), else MAILWARDEN_EXCEPTIONS."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mailwarden.errors import InputError
from mailwarden.settings import load_settings

ExceptionsOpt = Annotated[Path | None, typer.Option(
    "--exceptions",
    help="Accepted exceptions (YAML): failing findings they cover are reported accepted "
    "until they expire. Default: the settings' exceptions_file, else $MAILWARDEN_EXCEPTIONS. "
    "Exceptions kept in the history database for the tenant apply too.")]


def exceptions_file(flag: Path | None, config: Path | None = None) -> Path | None:
    """The exceptions file a run applies; a named file that is not there is an error."""
    chosen = flag or load_settings(toml_path=config).exceptions_file
    if chosen is not None and not chosen.is_file():
        raise InputError(f"{chosen}: exceptions file not found; give --exceptions FILE "
                         "(see `mailwarden exceptions --help` for its format)")
    return chosen
