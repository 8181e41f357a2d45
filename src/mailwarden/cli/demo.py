"""`mailwarden demo`: the whole product on a built-in synthetic tenant, on loopback only."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.text import Text

from mailwarden.cli import app
from mailwarden.cli.tenant import QuietOpt, print_detection_summary, print_scan_summary
from mailwarden.cli.ui import console, err_console, progress_board, who_records
from mailwarden.cli.views import inventory_table
from mailwarden.text import plural

#: Ownerless mailboxes the demo lists, riskiest first.
_INVENTORY_SHOWN = 15


@app.command()
def demo(
    out: Annotated[
        Path, typer.Option("--out", help="Where to write the collected tenant and the results.")
    ] = Path("mailwarden-demo"),
    size: Annotated[str, typer.Option("--size", help="small, medium or large.")] = "small",
    seed: Annotated[int, typer.Option("--seed", help="Seed of the synthetic tenant.")] = 0,
    db: Annotated[
        str | None,
        typer.Option("--db", help="History database (default: OUT/history.db, so each demo "
                     "run shows what changed since the last)."),
    ] = None,
    quiet: QuietOpt = False,
    open_console: Annotated[
        bool, typer.Option("--console", help="Then serve the web console on the demo's "
                           "history database (127.0.0.1, local mode) until Ctrl-C; it prints "
                           "the sign-in URL and opens no browser.")
    ] = False,
    console_port: Annotated[
        int, typer.Option("--console-port", help="The console's port with --console; 0 picks "
                          "a free one.")
    ] = 8765,
) -> None:
    """Run everything on a built-in synthetic tenant, on 127.0.0.1 only.

    The emulator serves the tenant; it is collected through the real client path (MSAL,
    Graph, Exchange), assessed, and the results are written to --out.

    Exit codes: 0 done; 2 bad usage, or --out cannot be written; 4 the emulated tenant
    could not be read whole; 5 the history database cannot be written; 70 internal
    error. With --console: 0 when the console is stopped."""
    from mailwarden.demo import run_demo

    if open_console:  # a port in use fails now, not after the demo
        from mailwarden.console.serve import bind

        listening = bind("127.0.0.1", console_port)

    started = time.perf_counter()
    with progress_board(enabled=not quiet) as board:
        run = run_demo(
            out, size=size, seed=seed, progress=board, db_url=db or str(out / "history.db"),
            step=lambda message: err_console.print(f"[bold]>[/] {escape(message)}", markup=True),
        )
    assert run.scan is not None and run.recorded is not None
    requests = ", ".join(f"{n} {service}" for service, n in sorted(run.requests.items()) if n)
    console.print(
        f"collected {plural(len(run.recorded.data), 'source')} in "
        f"{run.seconds['collect']:.1f} s ({requests} requests); "
        f"{len(run.recorded.errors)} failed",
        markup=False,
    )
    console.print(inventory_table(run.scan.result, limit=_INVENTORY_SHOWN))
    if len(run.scan.result.inventory) > _INVENTORY_SHOWN:
        console.print(Text(f"all of them: mailwarden inventory {out / 'tenant'}"),
                      soft_wrap=True)
    print_scan_summary(run.scan, None)
    if run.detection is not None:
        print_detection_summary(run.detection, None)
    console.print(f"\nrecorded tenant: {out / 'tenant'}")
    for path in run.files:
        console.print(f"wrote {path}")
    if run.run_id is not None:
        where = db or out / "history.db"
        console.print(f"stored as run {run.run_id}; see `mailwarden history --db {where}`")
    report = out / "report.html"
    if report.exists():
        console.print(f"[bold]open the report:[/] {escape(str(report.resolve()))}", markup=True)
    console.print(f"demo finished in {time.perf_counter() - started:.1f} s")
    if open_console:
        _serve_console(db or str(out / "history.db"), listening)


def _serve_console(db_url: str, listening: socket.socket) -> None:
    from mailwarden.cli.console import open_console, sign_in_url
    from mailwarden.console.app import build_console, create_app
    from mailwarden.console.config import ConsoleConfig

    config = ConsoleConfig(db_url=db_url, port=listening.getsockname()[1],
                           owner_name=who_records(None))
    try:
        parts = build_console(config)
    except BaseException:
        listening.close()
        raise
    open_console(create_app(parts), listening, sign_in_url=sign_in_url(parts))
