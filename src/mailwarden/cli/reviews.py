"""`mailwarden reviews`: access reviews kept in the history database (the console starts
them and custodians answer them there).

    mailwarden reviews remind --routing routing.yaml --console-url https://console.contoso.com
                              [--db URL] [--every-days 7] [--before-due-days 2]

`remind` is for a scheduler (cron, a systemd timer): in every open review, each custodian
with undecided grants is reminded when their last message is `--every-days` old, and once
more when the due date is `--before-due-days` away; nobody is reminded twice within the
interval. Each reminder carries a fresh personal link, signed with the console's link key
(MAILWARDEN_CONSOLE_SECRET, else the key file of the user running it: run it as the user
who runs the console, or set the variable for both).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from mailwarden.cli import app
from mailwarden.cli.report import DbOpt
from mailwarden.cli.tables import Column, FitTable
from mailwarden.cli.ui import console
from mailwarden.console.links import LinkStore, load_link_key
from mailwarden.console.review_mail import (
    BEFORE_DUE,
    REMIND_EVERY,
    ReviewMailer,
    default_state_path,
    remind_due,
)
from mailwarden.errors import ConfigError
from mailwarden.notify import DeliveryError, load_routing
from mailwarden.store.history import History
from mailwarden.store.reviews import ReviewStore
from mailwarden.text import plural

reviews_app = typer.Typer(
    help="Access reviews kept in the history database: custodians confirm who should keep "
    "access to their mailboxes (started in the console).", no_args_is_help=True)
app.add_typer(reviews_app, name="reviews")


@reviews_app.command("remind")
def remind_command(
    routing_path: Annotated[Path, typer.Option(
        "--routing", help="Routing file (YAML): its email channels carry the reminders.")],
    console_url: Annotated[str, typer.Option(
        "--console-url", help="Where custodians reach the console (their links point there), "
        "e.g. https://console.contoso.com.")],
    db: DbOpt = None,
    state: Annotated[Path | None, typer.Option(
        "--state", help="The review mail outbox (what was sent). Default: the user state "
        "dir's reviews/review-mail.json, as the console's.")] = None,
    every_days: Annotated[int, typer.Option(
        "--every-days", min=1, help="Remind a custodian whose last message is this old.")
    ] = REMIND_EVERY.days,
    before_due_days: Annotated[int, typer.Option(
        "--before-due-days", min=0, help="Remind once more when the due date is this close.")
    ] = BEFORE_DUE.days,
) -> None:
    """Remind the custodians of open access reviews who still have grants to decide, when
    their reminder is due; print who was reminded.

    Exit codes: 0 every reminder due was sent (or none was due); 2 bad usage or input (the
    routing file, no email channel in it, no history database, the console's link key);
    4 a reminder was not delivered (it stays pending and is sent on the next run); 5 the
    history database could not be read or written; 70 internal error."""
    if not console_url.startswith(("https://", "http://")):
        raise ConfigError(f"--console-url {console_url!r} is not a URL: give the address "
                          "custodians open the console at, e.g. https://console.contoso.com")
    routing = load_routing(routing_path)
    with History.open(db, create=False) as history:
        mailer = ReviewMailer(routing=routing, state=state or default_state_path(),
                              base_url=console_url, links=LinkStore(history, load_link_key()))
        done = remind_due(mailer, ReviewStore(history), now=datetime.now(UTC),
                          every=timedelta(days=every_days),
                          before_due=timedelta(days=before_due_days))
    table = FitTable([Column("review", ident=True), Column("due", ident=True),
                      Column("reminded"), Column("failed", beneath=True)],
                     title=plural(len(done), "review") + " with reminders due")
    for review, _due, result in done:
        table.add_row(review.id, review.due.isoformat(), Text(", ".join(result.told) or "-"),
                      Text("; ".join(result.failed)))
    console.print(table)
    failed = sum(len(result.failed) for _, _, result in done)
    if failed:
        raise DeliveryError(f"{plural(failed, 'reminder')} could not be sent; "
                            f"{'it stays' if failed == 1 else 'they stay'} pending and "
                            f"{'is' if failed == 1 else 'are'} sent on the next run")
