"""Tables that fit the terminal and read well in a pipe.

At a terminal (rich's `Console.is_terminal`: a TTY, or TTY_COMPATIBLE=1 / FORCE_COLOR set,
https://rich.readthedocs.io/en/stable/console.html#terminal-detection) a table is drawn with
box characters within the console's width (the terminal's, or COLUMNS). Identifier columns
(addresses, ids, check ids, IP addresses) are never wrapped, folded or cut: prose columns
wrap between words, and when even that does not fit, the least important columns are left
out and the caption names them.

Piped or redirected (`| less`, `| grep`, `> file`) a table is plain text: a header line and
one line per record, columns aligned with two spaces, no box characters and no wrapping,
whatever the width; a cell of several lines is joined with "; " (with a space for
identifiers). So `grep` finds whole
records and `less -S` scrolls them sideways.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import typer
from rich.console import Console, ConsoleOptions, RenderResult
from rich.padding import Padding
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from mailwarden.cli.ui import err_console
from mailwarden.errors import ConfigError

Cell = str | Text
Justify = Literal["left", "right"]

#: The narrowest a prose column is squeezed to before columns are left out.
PROSE_MIN = 8
#: Output formats every listing command takes as `--format`.
TABLE_OR_JSON = ("table", "json")


@dataclass(frozen=True, slots=True)
class Column:
    """A column: `ident` holds identifiers, shown whole; `drop` is 0 for a column that is
    always shown, higher for those left out first when the terminal is too narrow; a
    `beneath` column (prose that quotes long addresses) goes under its row's other cells,
    one record after another, when the table cannot fit without cutting a word."""

    header: str
    ident: bool = False
    drop: int = 0
    justify: Justify = "left"
    beneath: bool = False


def _plain_text(cell: Cell) -> str:
    return cell.plain if isinstance(cell, Text) else cell


def _lines(cell: Cell) -> list[str]:
    return _plain_text(cell).split("\n")


def _one_line(cell: Cell) -> Text:
    text = cell if isinstance(cell, Text) else Text(cell)
    return Text(" ").join(line for line in text.split("\n") if line.plain.strip())


def _aligned(cells: Sequence[Text], sizes: Sequence[int], columns: Sequence[Column]) -> Text:
    line = Text(no_wrap=True, overflow="ignore")
    for position, (cell, size, column) in enumerate(zip(cells, sizes, columns, strict=True)):
        pad = " " * (size - cell.cell_len)
        line.append_text(Text(pad) + cell if column.justify == "right" else cell + Text(pad))
        if position < len(cells) - 1:
            line.append("  ")
    line.rstrip()
    return line


def _longest_word(cell: Cell) -> int:
    return max((Text(word).cell_len for word in " ".join(_lines(cell)).split()), default=0)


def _longest_line(cell: Cell) -> int:
    return max(Text(line).cell_len for line in _lines(cell))


@dataclass
class FitTable:
    """A table that fits the console it is printed on (see the module docstring)."""

    columns: Sequence[Column]
    title: str | Text | None = None
    caption: str | None = None
    show_lines: bool = False
    rows: list[tuple[Cell, ...]] = field(default_factory=list)

    def add_row(self, *cells: Cell) -> None:
        if len(cells) != len(self.columns):
            raise ValueError(f"{len(cells)} cells for {len(self.columns)} columns")
        self.rows.append(cells)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if not console.is_terminal:
            yield from self._plain()
            return
        shown = list(range(len(self.columns)))
        widths = self._widths(shown, options.max_width)
        while widths is None and any(self.columns[i].drop for i in shown):
            worst = max(shown, key=lambda i: (self.columns[i].drop, i))
            shown.remove(worst)
            widths = self._widths(shown, options.max_width)
        if widths is None and any(c.beneath for c in self.columns):
            yield from self._stacked(options.max_width)
            return
        yield self._table(shown, widths)

    def _stacked(self, width: int) -> RenderResult:
        """Each record's short cells on one aligned line, its prose wrapped beneath; the
        short columns least needed are left out if that line would not fit."""
        head = [i for i, c in enumerate(self.columns) if not c.beneath]
        under = [i for i, c in enumerate(self.columns) if c.beneath]
        flat = {i: [_one_line(row[i]) for row in self.rows] for i in head}
        headers = {i: Text(self.columns[i].header, style="bold") for i in head}
        size = {i: max(t.cell_len for t in (headers[i], *flat[i])) for i in head}
        while (sum(size[i] + 2 for i in head) - 2 > width
               and any(self.columns[i].drop for i in head)):
            head.remove(max(head, key=lambda i: (self.columns[i].drop, i)))
        columns = [self.columns[i] for i in head]
        sizes = [size[i] for i in head]
        if self.title is not None:
            yield Text(_plain_text(self.title), style="italic")
        yield _aligned([headers[i] for i in head], sizes, columns)
        for number, row in enumerate(self.rows):
            yield _aligned([flat[i][number] for i in head], sizes, columns)
            for i in under:
                value = row[i]
                cell = value.copy() if isinstance(value, Text) else Text(value)
                if len(under) > 1 and cell.plain.strip():  # say which prose is which
                    cell = Text(f"{self.columns[i].header}: ", style="dim") + cell
                for line in cell.split("\n"):
                    yield Padding(line, (0, 0, 0, 4))
            if self.show_lines:
                yield Text("")
        left_out = [c.header for i, c in enumerate(self.columns) if i not in head + under]
        note = f"left out at this width: {', '.join(left_out)}" if left_out else None
        caption = "\n".join(part for part in (self.caption, note) if part)
        if caption:
            yield Text(caption, style="dim")

    def _natural(self, index: int) -> tuple[int, int]:
        """(the width a column needs to show every line whole, the least it can take)."""
        column = self.columns[index]
        header = Text(column.header).cell_len
        cells = [row[index] for row in self.rows]
        longest = max([header, *map(_longest_line, cells)])
        if column.ident:
            return longest, longest
        least = max([min(header, PROSE_MIN), *map(_longest_word, cells)])
        return longest, min(longest, max(least, PROSE_MIN))

    def _widths(self, shown: list[int], width: int) -> list[int] | None:
        """Content widths that fit `width`, prose squeezed widest first; None if none do."""
        room = width - (3 * len(shown) + 1)  # a border and two spaces of padding a column
        sizes = {i: self._natural(i) for i in shown}
        widths = {i: sizes[i][0] for i in shown}
        excess = sum(widths.values()) - room
        if excess <= 0:
            return [widths[i] for i in shown]
        if sum(least for _, least in sizes.values()) > room:
            return None
        while excess > 0:
            squeezable = [i for i in shown if widths[i] > sizes[i][1]]
            widest = max(squeezable, key=lambda i: (widths[i] - sizes[i][1], widths[i]))
            widths[widest] -= 1
            excess -= 1
        return [widths[i] for i in shown]

    def _table(self, shown: list[int], widths: list[int] | None) -> Table:
        left_out = [self.columns[i].header for i in range(len(self.columns)) if i not in shown]
        caption = self.caption or ""
        if left_out:
            note = f"left out at this width: {', '.join(left_out)}"
            caption = f"{caption}\n{note}" if caption else note
        table = Table(title=self.title, title_justify="left", caption=caption or None,
                      caption_justify="left", show_lines=self.show_lines, expand=False)
        for position, index in enumerate(shown):
            column = self.columns[index]
            table.add_column(column.header, justify=column.justify, no_wrap=column.ident,
                             overflow="ellipsis" if column.ident else "fold",
                             width=None if widths is None else widths[position])
        for row in self.rows:
            table.add_row(*(row[i] for i in shown))
        return table

    def _plain(self) -> Iterable[Segment]:
        header = [c.header for c in self.columns]
        body = [[(" " if column.ident else "; ").join(
                     line.strip() for line in _lines(cell) if line.strip())
                 for cell, column in zip(row, self.columns, strict=True)] for row in self.rows]
        sizes = [max(Text(value).cell_len for value in column)
                 for column in zip(header, *body, strict=True)]
        if self.title is not None:
            yield Segment(_plain_text(self.title) + "\n")
        for values in (header, *body):
            parts = []
            for value, size, column in zip(values, sizes, self.columns, strict=True):
                pad = " " * (size - Text(value).cell_len)
                parts.append(pad + value if column.justify == "right" else value + pad)
            yield Segment("  ".join(parts).rstrip() + "\n")
        if self.caption:
            yield Segment(" ".join(self.caption.split()) + "\n")


@dataclass(frozen=True, slots=True)
class Record:
    """One record as one line: whole when piped (one line per record for grep); at a
    terminal wrapped between words, its continuation lines indented by `indent`."""

    text: str | Text
    indent: int = 0

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        text = self.text if isinstance(self.text, Text) else Text(self.text)
        if not console.is_terminal:
            yield Segment(text.plain.replace("\n", " ") + "\n")
            return
        lines = text.wrap(console, options.max_width, overflow="fold")
        first, rest = lines[:1], lines[1:]
        if rest and self.indent and self.indent < options.max_width // 2:
            again = Text(" ").join(rest).wrap(console, options.max_width - self.indent,
                                             overflow="fold")
            rest = [Text(" " * self.indent) + line for line in again]
        yield from (*first, *rest)


def format_option(*choices: str) -> Any:
    """The one `--format` option of a command that prints in these formats."""
    return typer.Option("--format", help=_choices(choices) + ".")


def json_alias() -> Any:
    """The `--json` flag older versions took: hidden, and the same as `--format json`."""
    return typer.Option("--json", hidden=True, help="Deprecated: use --format json.")


def chosen_format(value: str, *, as_json: bool = False,
                  allowed: Sequence[str] = TABLE_OR_JSON) -> str:
    """The `--format` value (`json` when the deprecated `--json` is given, with a note on
    stderr), or a usage error naming the formats this command takes."""
    if as_json:
        err_console.print("--json is deprecated: use --format json", soft_wrap=True)
        value = "json"
    return check_format(value, allowed)


def _choices(choices: Sequence[str]) -> str:
    return ", ".join(choices[:-1]) + f" or {choices[-1]}" if len(choices) > 1 else choices[0]


def check_format(value: str, allowed: Sequence[str] = TABLE_OR_JSON) -> str:
    """The `--format` value, or a usage error naming the ones this command takes."""
    if value not in allowed:
        raise ConfigError(f"--format {value!r}: use {_choices(allowed)}")
    return value
