"""The help a person reads: every paragraph flows to the terminal's width."""

from __future__ import annotations

import re

from mailwarden.cli import command_app
from tests.support.cli_runner import runner

_BOX = re.compile(r"[│╭╮╰╯─]+")


def _help(*args: str, width: int) -> str:
    result = runner.invoke(command_app(), [*args, "--help"], env={"COLUMNS": str(width)},
                           terminal_width=width)
    assert result.exit_code == 0, result.output
    return result.output


def _words(text: str) -> str:
    return " ".join(_BOX.sub(" ", text).split())


def test_the_command_list_keeps_each_summary_in_one_flowing_sentence() -> None:
    # In typer's "rich" markup mode the docstring's line break stayed: "since the" / "last run".
    output = _help(width=200)
    assert "since the last run, append them to OUT/logs/" in output
    assert "mailbox's custodian and the channels" in output


def test_later_paragraphs_are_reflowed_not_broken_where_the_source_wraps() -> None:
    output = _help("scan", width=200)
    assert ("Offline with --from-dir, or live with --tenant (collects first into OUT/tenant). "
            "When the recorded tenant has logs/") in output
    assert "Offline with --from-dir" in _words(_help("scan", width=60))
