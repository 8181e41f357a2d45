"""The URLs of the mailbox pages, each path part quoted (a tenant's strings are data)."""

from __future__ import annotations

from urllib.parse import quote


def part(value: str) -> str:
    """One path segment: everything but letters, digits, "@", "-", ".", "_" and "~" quoted,
    "/" included."""
    return quote(value, safe="@")


def mailboxes_url(tenant_id: str) -> str:
    return f"/tenants/{part(tenant_id)}/mailboxes"


def mailbox_url(tenant_id: str, upn: str) -> str:
    return f"{mailboxes_url(tenant_id)}/{part(upn)}"
