"""Alembic environment: the caller hands over an open connection (see `store.migrate`)."""

from __future__ import annotations

from alembic import context

from mailwarden.store.tables import METADATA

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=METADATA,
    # SQLite alters tables by copying them; later migrations need batch mode there.
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
