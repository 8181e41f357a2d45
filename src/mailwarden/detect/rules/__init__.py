"""The detection rule catalogue, registered explicitly."""

from __future__ import annotations

from mailwarden.detect.rules import access, directory, leaver, mailbox, signin, spray
from mailwarden.detect.rules.base import CATEGORIES, Rule, Threshold

ALL_RULES: tuple[Rule, ...] = (
    *spray.RULES, *signin.RULES, *leaver.RULES, *mailbox.RULES, *access.RULES,
    *directory.RULES,
)

__all__ = ["ALL_RULES", "CATEGORIES", "Rule", "Threshold"]
