"""One SQLAlchemy engine per history database per process, migrated once.

Every store call (storing a run, listing runs, a drift, each remediation journal entry)
opens the history database. Creating an engine and asking Alembic whether the schema is
current costs connections and queries each time, so each database gets one engine, created
and brought to the current schema the first time this process uses it, and reused after.

The cache key is the whole URL (driver, user, password, host, port, database and query:
PostgreSQL's `options=-csearch_path=...` reaches another schema on the same server, so two
such URLs never share an engine or its migration) together with the process id: a forked
child opens engines of its own and never talks over its parent's connections. A SQLite file
that has disappeared since its engine was made is a new database and is migrated again.
An in-memory SQLite database lives as long as its connection, so it is never shared: the
caller owns it (`private_engine`). Pooled connections are pinged before use, so a long-
running watcher survives a database restart between cycles.

Commands that only read the history (`history`, `diff`) open it with `create=False`: a
SQLite file that is not there, or a database with no mailwarden schema in it, is then
`NoHistoryError`, and nothing is created, neither the file nor its folder nor the tables.

`dispose_engines()` closes every shared engine; it runs at exit, and tests call it.
"""

from __future__ import annotations

import atexit
import os
import threading
from pathlib import Path

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import URL

from mailwarden.errors import NoHistoryError
from mailwarden.store.location import ENV_VAR, described, prepare_sqlite_file
from mailwarden.store.migrate import current_revision, upgrade

_engines: dict[tuple[int, str], Engine] = {}
_lock = threading.Lock()
_dispose_at_exit = False


def is_in_memory(url: URL) -> bool:
    """A SQLite database that lives only as long as its connection."""
    return url.get_backend_name() == "sqlite" and (
        url.database in (None, "", ":memory:") or url.query.get("mode") == "memory")


def no_history(url: URL) -> NoHistoryError:
    return NoHistoryError(
        f"no history database at {described(url)} yet: `mailwarden report`, `scan` and "
        f"`watch` store their runs there (--db or {ENV_VAR} names another)")


def private_engine(url: URL, *, create: bool = True) -> Engine:
    """A new engine on `url`, the schema migrated to the current revision; the caller
    disposes it. Without `create`, a database that is not there (or holds no mailwarden
    schema) raises NoHistoryError and is left as it was. Raises SQLAlchemyError or OSError
    when the database cannot be opened."""
    if not create and _sqlite_file_gone(url):
        raise no_history(url)
    if create:
        prepare_sqlite_file(url)
    engine = create_engine(url, pool_pre_ping=True)
    try:
        if not create and current_revision(engine) is None:
            raise no_history(url)
        upgrade(engine)
    except BaseException:
        engine.dispose()
        raise
    return engine


def shared_engine(url: URL, *, create: bool = True) -> Engine:
    """This process's engine on `url`, created and migrated on first use (see the module
    docstring). Do not dispose it; `dispose_engines` does. Raises as `private_engine`."""
    global _dispose_at_exit
    key = (os.getpid(), url.render_as_string(hide_password=False))
    with _lock:
        engine = _engines.get(key)
        if engine is not None and _sqlite_file_gone(url):
            del _engines[key]
            engine.dispose()
            engine = None
        if engine is None:
            engine = private_engine(url, create=create)
            _engines[key] = engine
            if not _dispose_at_exit:
                atexit.register(dispose_engines)
                _dispose_at_exit = True
        return engine


def dispose_engines() -> None:
    """Close every shared engine; the next store call creates (and migrates) anew."""
    with _lock:
        engines = list(_engines.items())
        _engines.clear()
    pid = os.getpid()
    for (owner, _), engine in engines:
        # Connections a parent opened before forking are the parent's: forget, not close.
        engine.dispose(close=owner == pid)


def _sqlite_file_gone(url: URL) -> bool:
    database = url.database
    return (url.get_backend_name() == "sqlite" and not is_in_memory(url)
            and database is not None and not Path(database).exists())
