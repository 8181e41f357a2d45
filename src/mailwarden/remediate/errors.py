"""Errors of remediation, each with a message that says what to do next."""

from __future__ import annotations

from mailwarden.errors import ConfigError, InputError, MailwardenError


class StaleSnapshotError(ConfigError):
    """The findings were read too long ago to act on safely."""


class UnknownActionError(ConfigError):
    """An action id given on the command line is not in the plan or the run."""


class JournalError(InputError):
    """A remediation journal cannot be read or written."""


class TenantMismatchError(ConfigError):
    """The findings come from another tenant than the one the connection reaches."""


class RemediationFailed(MailwardenError):
    """Some actions failed; the others were applied. The report lists each failure."""

    exit_code = 5


class FindingEvidenceError(InputError):
    """A failing finding's evidence lacks what its remediation needs to be planned."""


class PolicyChangedError(MailwardenError):
    """A conditional-access policy changed since the scan in a way that makes the planned
    change wrong (it is gone, or no longer enabled): scan again and plan anew."""
