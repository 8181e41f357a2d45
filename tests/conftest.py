"""Lets every test import the shared helpers in tests/support (pytest runs with
--import-mode=importlib, which puts no test folder on sys.path)."""

import sys
from pathlib import Path

_SUPPORT = str(Path(__file__).parent / "support")
if _SUPPORT not in sys.path:
    sys.path.insert(0, _SUPPORT)
