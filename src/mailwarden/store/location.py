"""Where the history database is: `--db`, else `MAILWARDEN_DB`, else a per-user SQLite file.

The default is `<user data dir>/mailwarden/history.db` (platformdirs: on Linux
`~/.local/share/mailwarden/history.db`, on macOS `~/Library/Application Support/...`,
on Windows `%LOCALAPPDATA%\\mailwarden\\...`). A bare path means a SQLite file; a
`postgresql://` URL uses the psycopg 3 driver.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from platformdirs import user_data_path
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from mailwarden.errors import ConfigError
from mailwarden.files import make_private_dirs, open_private_exclusive

ENV_VAR = "MAILWARDEN_DB"
_POSTGRES_SCHEMES = {"postgres": "postgresql+psycopg", "postgresql": "postgresql+psycopg"}


def default_db_path() -> Path:
    return user_data_path("mailwarden", appauthor=False) / "history.db"


def resolve_db_url(value: str | None = None, environ: Mapping[str, str] | None = None) -> URL:
    """The database URL to use. Raises ConfigError for a value that is no URL or path."""
    env = os.environ if environ is None else environ
    chosen = value or env.get(ENV_VAR) or str(default_db_path())
    if "://" not in chosen:
        return URL.create("sqlite", database=str(Path(chosen).expanduser()))
    try:
        url = make_url(chosen)
    except ArgumentError as exc:
        raise ConfigError(
            f"the history database URL is not valid ({exc}); give a file path, "
            "sqlite:///PATH or postgresql://USER@HOST/DB"
        ) from exc
    driver = _POSTGRES_SCHEMES.get(url.drivername)
    if driver:
        url = url.set(drivername=driver)
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(
            f"unsupported history database {url.get_backend_name()!r}: use SQLite (a path) "
            "or PostgreSQL (postgresql://...)"
        )
    return url


def shown(url: URL) -> str:
    """The URL for messages: never with its password."""
    return url.render_as_string(hide_password=True)


def described(url: URL) -> str:
    """A SQLite database as its file path, any other as its URL without the password."""
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return str(url.database)
    return shown(url)


def prepare_sqlite_file(url: URL) -> None:
    """Create a SQLite file's folder (0700) and the file itself (0600) before SQLite does,
    so run history, which names people and mailboxes, is private from the start."""
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return
    path = Path(database)
    make_private_dirs(path.parent)
    if not path.exists():
        open_private_exclusive(path).close()
