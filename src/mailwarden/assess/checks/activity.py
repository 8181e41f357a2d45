"""What a user's `signInActivity` can and cannot say about successful sign-ins.

Graph's signInActivity resource: "Effective December 1, 2023, the
lastSuccessfulSignInDateTime property is available to provide the last successful sign-in
time for a specific user, regardless of whether the sign-in was interactive or
non-interactive. The data isn't backfilled for this property." The other two timestamps
record attempts "whether the attempt was successful or not" (`lastSignInDateTime`,
interactive) and "either successfully or unsuccessfully" (`lastNonInteractiveSignInDateTime`).

So a missing `lastSuccessfulSignInDateTime` means no successful sign-in since 1 December
2023, nothing more. An attempt recorded before that day may have succeeded: nothing on
record tells. An attempt recorded since then without a success timestamp failed.
"""

from __future__ import annotations

from datetime import UTC, datetime

from mailwarden.model.inventory import Account

#: The first day Graph records lastSuccessfulSignInDateTime (not backfilled before it).
SUCCESS_RECORDED_SINCE = datetime(2023, 12, 1, tzinfo=UTC)


def attempts_of_unknown_outcome(account: Account) -> tuple[tuple[str, datetime], ...]:
    """The sign-in attempts on record that may have succeeded unseen: those before Graph
    began recording successes, when it has recorded none since (property name, moment)."""
    if account.last_successful_sign_in is not None:
        return ()
    attempts = (
        ("lastSignInDateTime", account.last_sign_in),
        ("lastNonInteractiveSignInDateTime", account.last_non_interactive_sign_in),
    )
    return tuple(
        (name, moment)
        for name, moment in attempts
        if moment is not None and moment < SUCCESS_RECORDED_SINCE
    )

