"""mailwarden: find, harden and watch the Microsoft 365 mailboxes nobody owns."""

__version__ = "0.1.0"
