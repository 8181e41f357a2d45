"""Terminal output: one console, progress bars, and one-line errors."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from rich.console import (
    Console,
    ConsoleOptions,
    ConsoleRenderable,
    RenderableType,
    RenderHook,
    RenderResult,
)
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.segment import Segment

from mailwarden.errors import ConfigError
from mailwarden.text import printable


@dataclass(frozen=True, slots=True)
class _Shown:
    """A renderable whose text reaches the terminal without control characters: tenant data
    may carry ESC sequences or BEL; the styles rich adds are not in the text, so they stay."""

    inner: RenderableType

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for segment in console.render(self.inner, options):
            if segment.control or printable(segment.text, lines=True) == segment.text:
                yield segment
            else:
                yield Segment(printable(segment.text, lines=True), segment.style)


class _ShowOnly(RenderHook):
    def process_renderables(
        self, renderables: list[ConsoleRenderable]
    ) -> list[ConsoleRenderable]:
        return [_Shown(r) for r in renderables]


class _Console(Console):
    """Piped or redirected, nothing is cut at the width: a table's plain layout gives one
    record per line however long (`cli.tables`); at a terminal rich crops as usual."""

    def print(self, *objects: Any, **options: Any) -> None:
        if not self.is_terminal:
            options["crop"] = False
        super().print(*objects, **options)


def _console(*, stderr: bool) -> Console:
    # Without markup by default: tenant strings ("[/]", "[locked]") are text. A line that
    # styles our own words passes markup=True and escapes what it quotes.
    made = _Console(stderr=stderr, highlight=False, markup=False)
    made.push_render_hook(_ShowOnly())
    return made


console = _console(stderr=False)
err_console = _console(stderr=True)


@dataclass
class ProgressBoard:
    """A `mailwarden.progress.Progress` that shows each step as a rich progress bar."""

    progress: Progress
    tasks: dict[str, TaskID] = field(default_factory=dict)

    def __call__(self, step: str, done: int, total: int | None = None) -> None:
        task = self.tasks.get(step)
        if task is None:
            task = self.progress.add_task(step, total=total)
            self.tasks[step] = task
        self.progress.update(task, completed=done, total=total)


@contextmanager
def progress_board(*, enabled: bool = True) -> Iterator[ProgressBoard]:
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,  # finished bars give way to the summary
        disable=not enabled,
    )
    with progress:
        yield ProgressBoard(progress)


def who_records(by: str | None) -> str:
    """Who records an acknowledgement or an exception: --by, else the OS user name."""
    if by and by.strip():
        return by.strip()
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        raise ConfigError("cannot tell who you are from the OS; give --by NAME") from None
