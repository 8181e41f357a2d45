"""Take ownerless accounts out of an enabled legacy-auth block's excludeUsers: one action
per policy, built for the whole tenant (see `remediate.ca_actions`)."""

from __future__ import annotations

from mailwarden.remediate.ca_actions import REMOVE_EXCLUSION as KIND

__all__ = ["KIND"]
