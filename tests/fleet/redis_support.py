"""A Redis for the fleet's tests: the one MAILWARDEN_TEST_REDIS_URL names (`.ci/services`
sets it), or the test is skipped, saying so. Keys a test makes are under a prefix of its
own and deleted afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import redis

REDIS_ENV = "MAILWARDEN_TEST_REDIS_URL"


def redis_url() -> str:
    url = os.environ.get(REDIS_ENV)
    if not url:
        pytest.skip(f"{REDIS_ENV} is not set: no Redis server to test against")
    return url


def own_namespace(client: redis.Redis) -> Iterator[str]:
    """A fresh key namespace; every key under it is deleted when the test ends."""
    namespace = f"mailwarden-test-{uuid.uuid4().hex[:12]}"
    try:
        yield namespace
    finally:
        keys = list(client.scan_iter(match=f"{namespace}*"))
        if keys:
            client.delete(*keys)
