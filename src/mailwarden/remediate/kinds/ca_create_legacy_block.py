"""Create the one report-only legacy-auth block for all users, break-glass excluded,
where no block exists (see `remediate.ca_actions`)."""

from __future__ import annotations

from mailwarden.remediate.ca_actions import CREATE_LEGACY_BLOCK as KIND

__all__ = ["KIND"]
