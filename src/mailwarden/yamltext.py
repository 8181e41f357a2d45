"""Composing a YAML document into nodes that keep their line numbers, for the files a person
writes (routing, exceptions): a syntax error is one line naming FILE:LINE."""

from __future__ import annotations

import yaml

from mailwarden.errors import InputError


def compose(text: str, source: str) -> yaml.Node | None:
    """The document's root node, None for an empty document. Raises InputError naming the
    line of a syntax error."""
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "syntax error"
        raise InputError(f"{source}{where}: not valid YAML ({problem})") from exc
