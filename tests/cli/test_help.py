"""The help a person reads: every paragraph flows to the terminal's width."""

from __future__ import annotations

import itertools
import re

import pytest

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


_COMMANDS = (
    (), ("scan",), ("demo",), ("inventory",), ("history",), ("diff",), ("alerts",),
    ("alerts", "ack"), ("checks",), ("rules",), ("detect",), ("eval",), ("doctor",),
    ("notify",), ("watch",), ("collect",), ("collect-logs",), ("synth",), ("report",),
    ("emulator",), ("remediate",), ("remediate", "plan"), ("remediate", "show"),
)


def _broken_lines(output: str, width: int) -> list[str]:
    """Lines of help prose that end well before the width mid-sentence, the next line
    going on with it: what a hard line break of a docstring leaves."""
    lines = [line.rstrip(" │╮╯") for line in output.splitlines()]
    broken = []
    for line, following in itertools.pairwise(lines):
        words = line.strip("│ ")
        if (words and len(line) < width - 30 and "  " not in words
                and not words.endswith((".", ":", ";", ")", "]"))
                and following.strip("│ ")[:1].islower()):
            broken.append(f"{line!r} / {following.strip()!r}")
    return broken


@pytest.mark.parametrize("width", [80, 200])
def test_every_help_fits_and_no_paragraph_breaks_mid_sentence(width: int) -> None:
    for command in _COMMANDS:
        output = _help(*command, width=width)
        assert all(len(line) <= width for line in output.splitlines()), command
        assert _broken_lines(output, width) == [], command


def test_the_deprecated_json_flag_is_hidden_and_format_is_offered() -> None:
    for command in ("history", "diff"):
        output = _help(command, width=200)
        assert "--format" in output and "table or json" in output
        assert "--json" not in output
    assert "table, csv or json" in _help("inventory", width=200)
