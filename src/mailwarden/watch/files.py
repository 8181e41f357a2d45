"""Private, atomic state files: created 0600, replaced whole or not at all."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from mailwarden.errors import InputError


def write_atomic_json(path: Path, value: Any) -> None:
    """Write `value` as JSON to a temp file beside `path`, fsync it, then rename it over
    `path`: a crash leaves the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(handle, 0o600)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(value, out, ensure_ascii=False, default=str, indent=1)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    fsync_directory(path.parent)


def read_state_json(path: Path, schema: str, what: str) -> dict[str, Any] | None:
    """A state file's content, None when it does not exist yet."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InputError(f"{path}: cannot read the {what} ({exc.strerror})") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}: the {what} is not JSON; restore it from a "
                         "backup or move it away to start afresh") from exc
    if not isinstance(data, dict) or data.get("schema") != schema:
        raise InputError(f"{path}: not a mailwarden {what} (expected schema {schema})")
    return data


def fsync_directory(directory: Path) -> None:
    """Make a rename or a new file durable (POSIX); platforms without directory fds skip."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
