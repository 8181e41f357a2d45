"""A Redis for the fleet's tests: the one MAILWARDEN_TEST_REDIS_URL names (`.ci/services`
sets it), or the test is skipped saying so (a failure in CI). Keys a test makes are under
a prefix of its own and deleted afterwards; tests whose processes use Dramatiq's default
namespace take a Redis database of their own (`REDIS_DATABASES`)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import redis

from tests.support.services import missing_service

REDIS_ENV = "MAILWARDEN_TEST_REDIS_URL"
#: The Redis databases tests running worker or scheduler processes empty and use, one
#: each: a worker takes every message of its database's queue.
REDIS_DATABASES = {"scheduler": 11, "scheduler-sigterm": 12, "fleet-e2e": 13,
                   "fleet-sigkill": 14}


def redis_url() -> str:
    url = os.environ.get(REDIS_ENV)
    if not url:
        missing_service(f"{REDIS_ENV} is not set: no Redis server to test against")
    return url


def redis_database_url(name: str) -> str:
    """The test Redis, the database `REDIS_DATABASES` gives `name`."""
    parts = urlsplit(redis_url())
    return urlunsplit(parts._replace(path=f"/{REDIS_DATABASES[name]}"))


def own_namespace(client: redis.Redis) -> Iterator[str]:
    """A fresh key namespace; every key under it is deleted when the test ends."""
    namespace = f"mailwarden-test-{uuid.uuid4().hex[:12]}"
    try:
        yield namespace
    finally:
        keys = list(client.scan_iter(match=f"{namespace}*"))
        if keys:
            client.delete(*keys)
