"""Typed errors. Each carries a message a person can act on; the CLI maps them to exit codes."""

from __future__ import annotations


class MailwardenError(Exception):
    """Base of every error mailwarden raises on purpose. One that no subclass gives a
    meaning is a fault of mailwarden's (70): 1 is kept for findings at or above `--fail-on`."""

    exit_code = 70


class InputError(MailwardenError):
    """A file or directory given to mailwarden cannot be read as what it should be."""

    exit_code = 2


class ConfigError(MailwardenError):
    """Settings, flags or credentials are missing or contradict each other."""

    exit_code = 2


class AuthError(MailwardenError):
    """A token could not be obtained or was refused."""

    exit_code = 3


class ServiceError(MailwardenError):
    """Microsoft Graph or Exchange Online answered with an error we cannot recover from."""

    exit_code = 4

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        service: str | None = None,
        code: str | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.service = service
        self.code = code  # the service's error code (Graph's error.code), when it sent one


class PermissionDeniedError(ServiceError):
    """The app lacks a permission the call needs (HTTP 403)."""


class LicenceRequiredError(ServiceError):
    """The tenant lacks the licence the call needs (Entra ID P1 or P2): no permission the
    app could be granted changes the answer. `licence` names it ("Entra ID P1")."""

    def __init__(
        self,
        message: str,
        *,
        licence: str,
        status: int | None = None,
        service: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message, status=status, service=service, code=code)
        self.licence = licence


class DeadlineReachedError(ServiceError):
    """A collection ran out of time. `partial` is what it read before (the sources it did
    not finish recorded as failed); the caller writes it and exits with the partial code."""

    def __init__(self, message: str, *, partial: object) -> None:
        super().__init__(message)
        self.partial = partial


class RetriesExhaustedError(ServiceError):
    """Throttling or transient failures outlasted the retry policy."""


class StoreError(MailwardenError):
    """The history database cannot be opened, migrated, read or written."""

    exit_code = 5


class NoHistoryError(StoreError):
    """A command that only reads the history found no database where it looked; it creates
    none (only commands that store a run do)."""

    exit_code = 2


class StateInUseError(MailwardenError):
    """Another process holds the state folder (the watcher's, the notification outbox's)."""

    exit_code = 2
