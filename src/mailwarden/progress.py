"""How long-running steps report how far they are, for the CLI's progress bars.

`Progress` is told, per named step, how much is done and, when known, of how much:
`progress("graph/users", 1500)` for a running count, `progress("reading a.json", 2, 5)`
for the second of five. The CLI keeps one bar per step name (`cli.ui.ProgressBoard`).
`CountProgress` is the same for a caller that already knows which step it reports:
only the running count (pages read, items settled).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class Progress(Protocol):
    def __call__(self, step: str, done: int, total: int | None = None) -> None: ...


#: Called with a running count (pages, items or sub-requests done so far).
CountProgress = Callable[[int], None]
