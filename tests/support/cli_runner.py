"""The command line driven in-process, as the tests of commands use it."""

from __future__ import annotations

from typer.testing import CliRunner

from mailwarden.cli import command_app

runner = CliRunner()


def invoke_ok(*args: str, code: int = 0) -> str:
    """Run `mailwarden ARGS`; it must succeed (end with `code`: a scan of a tenant whose
    checks are partly `error` ends with 4). Returns what it printed."""
    result = runner.invoke(command_app(), list(args), catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output
