"""Graph's page sizes, shared by the emulated Graph and its count of necessary requests.

- Directory collections (users, groups, group members, userRegistrationDetails) serve 100
  a page by default and accept `$top` from 1 to 999; above that Graph answers 400
  Request_UnsupportedQuery "Invalid page size specified: '1000'. Must be between 1 and 999
  inclusive."
- Users with signInActivity selected or filtered come at most 120 a page, whatever `$top`
  asks: "Requests with `$top` set higher than 120 will return pages with up to 120 users"
  (Graph's user resource, signInActivity). That cap is silent: a shorter page and a next link.
"""

from __future__ import annotations

from collections.abc import Sequence

DIRECTORY_DEFAULT_TOP = 100
DIRECTORY_MAX_TOP = 999
SIGN_IN_ACTIVITY_MAX_TOP = 120


def names_sign_in_activity(select: Sequence[str] | None, filter_text: str | None) -> bool:
    """signInActivity named in `$select` or `$filter`: either one caps a users page."""
    if any(name.strip().lower() == "signinactivity" for name in select or ()):
        return True
    return "signinactivity" in (filter_text or "").lower()
