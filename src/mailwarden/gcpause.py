"""Pausing Python's cyclic garbage collector around bulk work.

Generating, decoding, parsing and assessing a large tenant allocate millions of
containers and no reference cycles; the cyclic collector would rescan them again and
again (about half the time of decoding a 50,000-user tenant)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause the cyclic collector; restore its previous state after, so it nests."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
