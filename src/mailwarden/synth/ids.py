"""Deterministic identifiers and Microsoft's date spellings."""

from __future__ import annotations

import base64
import functools
import hashlib
import random
import struct
from datetime import datetime

_VERSION_MASK = ~((0xF000 << 64) | (0xC000 << 48))
_VERSION_BITS = (0x4000 << 64) | (0x8000 << 48)


def new_guid(rng: random.Random) -> str:
    """A version-4 GUID drawn from the generator's own random stream."""
    # uuid.UUID(int=..., version=4) gives the same text; this is several times faster.
    value = f"{rng.getrandbits(128) & _VERSION_MASK | _VERSION_BITS:032x}"
    return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"


def _as_guid(hex32: str) -> str:
    variant = "89ab"[int(hex32[16], 16) & 3]
    return (f"{hex32[:8]}-{hex32[8:12]}-4{hex32[13:16]}-{variant}{hex32[17:20]}-"
            f"{hex32[20:32]}")


def derived_guid(*parts: str) -> str:
    """A version-4 GUID that depends only on `parts`: renderers stay pure."""
    return _as_guid(hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).hexdigest())


def derived_token(*parts: str, length: int = 43) -> str:
    """A URL-safe opaque id (like a role assignment's) that depends only on `parts`."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:length]


def derived_guids(count: int, *parts: str) -> list[str]:
    """`count` GUIDs that depend only on `parts`, from one hash."""
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16 * count).hexdigest()
    return [_as_guid(digest[32 * index:32 * index + 32]) for index in range(count)]


#: How Exchange Online spells a recipient's legacyExchangeDN, the name an inbox rule's
#: [EX:...] target gives a recipient picked from the address book.
LEGACY_DN_PREFIX = (
    "/o=ExchangeLabs/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn="
)


def legacy_dn(guid: str, alias: str) -> str:
    """A recipient's legacyExchangeDN: the prefix, its GUID's hex digits, a short alias."""
    return f"{LEGACY_DN_PREFIX}{guid.replace('-', '')}-{alias[:8]}"


def cloud_sid(object_id: str) -> str:
    """Entra ID's securityIdentifier: S-1-12-1 followed by the GUID's bytes as four uint32."""
    raw = bytes.fromhex(object_id.replace("-", ""))
    # The GUID's in-memory layout: its first three fields little-endian.
    layout = raw[3::-1] + raw[5:3:-1] + raw[7:5:-1] + raw[8:]
    first, second, third, fourth = struct.unpack("<4I", layout)
    return f"S-1-12-1-{first}-{second}-{third}-{fourth}"


def domain_sid(rng: random.Random) -> str:
    """The S-1-5-21-a-b-c prefix of an Active Directory domain or forest."""
    return "S-1-5-21-" + "-".join(str(rng.randrange(1_000_000_000, 4_294_967_295)) for _ in "abc")


@functools.lru_cache(maxsize=1 << 18)
def _seconds(value: datetime) -> str:
    # Every generated instant is a whole second in UTC, so ISO text is cut, not formatted;
    # each instant is spelled several times (Graph, Get-Mailbox, Get-User...), hence the cache.
    return value.isoformat()[:19]


def graph_date(value: datetime) -> str:
    """Graph v1.0 DateTimeOffset: UTC, whole seconds, 'Z'."""
    return _seconds(value) + "Z"


def exo_date(value: datetime) -> str:
    """How the Exchange Online admin API spells a local-time DateTime (seven fraction digits)."""
    return _seconds(value) + ".0000000+00:00"


def exo_utc_date(value: datetime) -> str:
    """How the Exchange Online admin API spells the *UTC variants (WhenCreatedUTC, ...)."""
    return _seconds(value) + ".0000000Z"
