"""Private, atomic state files: created 0600, replaced whole or not at all."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mailwarden.errors import InputError
from mailwarden.files import write_private_atomic


def write_atomic_json(path: Path, value: Any) -> None:
    """Write `value` as JSON, atomically and privately (see `write_private_atomic`)."""
    write_private_atomic(path, json.dumps(value, ensure_ascii=False, default=str, indent=1))


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


