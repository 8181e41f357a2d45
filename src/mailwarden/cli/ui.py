"""Terminal output: one console, progress bars, and one-line errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


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
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,  # finished bars give way to the summary
        disable=not enabled,
    )
    with progress:
        yield ProgressBoard(progress)
