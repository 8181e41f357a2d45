"""The Redis broker the fleet's queue is on: opened for one command, checked to answer
before anything is enqueued, and closed after. No module-level broker: Dramatiq's global
one (`dramatiq.set_broker`) is never set here."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from dramatiq.brokers.redis import RedisBroker
from redis.exceptions import RedisError

from mailwarden.errors import ConfigError


def _shown(url: str) -> str:
    """The URL without a password."""
    scheme, _, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.split("@", 1)[1]
    return f"{scheme}://{rest}" if scheme and rest else url


@contextmanager
def redis_broker(url: str, *, namespace: str = "dramatiq") -> Iterator[RedisBroker]:
    """A broker on `url`; ConfigError, saying what to do, when Redis does not answer."""
    broker: RedisBroker | None = None
    try:
        # Dramatiq leaves this constructor unannotated.
        broker = RedisBroker(url=url, namespace=namespace)  # type: ignore[no-untyped-call]
        broker.client.ping()
    except (RedisError, ValueError) as exc:
        if broker is not None:
            broker.client.connection_pool.disconnect()
        raise ConfigError(f"Redis at {_shown(url)} does not answer ({exc}); start it or give "
                          "--redis with the URL of the one the workers use") from None
    try:
        yield broker
    finally:
        broker.close()
        # Dramatiq's close leaves the client's connections to the garbage collector (the
        # broker made their pool, which the client then does not own): close them here.
        broker.client.connection_pool.disconnect()
