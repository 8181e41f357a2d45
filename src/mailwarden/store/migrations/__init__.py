"""Alembic migrations of the history database, run programmatically by `store.migrate`."""
