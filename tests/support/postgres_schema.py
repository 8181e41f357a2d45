"""A PostgreSQL schema of its own for a test, on the server MAILWARDEN_TEST_POSTGRES_URL
names (without one the test is skipped, or fails in CI); dropped afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from mailwarden.store import dispose_engines
from tests.support.services import missing_service

POSTGRES_ENV = "MAILWARDEN_TEST_POSTGRES_URL"


def postgres_schema_url(prefix: str) -> Iterator[str]:
    """Yield a URL whose connections see only a new schema named `prefix` + a random
    suffix; the schema is dropped when the generator finishes."""
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        missing_service(f"{POSTGRES_ENV} is not set: no PostgreSQL server to test against")
    url = make_url(base).set(drivername="postgresql+psycopg")
    schema = f"{prefix}{uuid.uuid4().hex[:12]}"
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        scoped = url.update_query_dict({"options": f"-csearch_path={schema}"})
        yield scoped.render_as_string(hide_password=False)
    finally:
        dispose_engines()  # the store keeps an engine per URL: close its connections first
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
