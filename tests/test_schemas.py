"""Every document schema id is spelled in one place in the code: writers and readers import
it, so they cannot drift apart."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import mailwarden
from mailwarden import schemas

_SCHEMA_ID = re.compile(r"""["']mailwarden\.[a-z-]+/\d+["']""")


def test_each_schema_id_is_spelled_in_one_module() -> None:
    source = Path(mailwarden.__file__).parent
    spelled: dict[str, set[str]] = defaultdict(set)
    for path in source.rglob("*.py"):
        for found in _SCHEMA_ID.findall(path.read_text(encoding="utf-8")):
            spelled[found.strip("\"'")].add(str(path.relative_to(source)))
    assert spelled, "no schema ids found: the pattern is out of date"
    assert {sid: files for sid, files in spelled.items() if len(files) > 1} == {}


def test_the_output_contract_keeps_its_ids() -> None:
    assert schemas.FINDINGS_SCHEMA == "mailwarden.findings/1"
    assert schemas.ALERTS_SCHEMA == "mailwarden.alerts/1"
