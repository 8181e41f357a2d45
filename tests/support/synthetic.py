"""What a command's exit code is on a whole synthetic tenant."""

from __future__ import annotations

import json
from pathlib import Path

from mailwarden.synth import generate, write_synthetic

PARTIAL = 4


def assessed_code(tenant: Path) -> int:
    """The exit code of `scan` or `report` of a synthetic tenant whose sources were all
    written: 4 when it plants checks that cannot tell (planted.json "unknown", and the
    grants whose use the audit log cannot decide, "dormant" "unknown": they are `error`, a
    partial result), else 0."""
    planted = json.loads((tenant / "planted.json").read_text(encoding="utf-8"))
    dormant = planted.get("dormant") or {}
    return PARTIAL if planted.get("unknown") or dormant.get("unknown") else 0


def write_tenant(out: Path, size: str | int = "small", seed: int = 0) -> Path:
    """Write the synthetic tenant `mailwarden synth --size SIZE --seed SEED --out OUT` writes,
    in this process: a test that only needs the files saves starting a process
    (tests/cli/test_file_safety.py and tests/e2e run the command itself)."""
    write_synthetic(generate(size, seed=seed), out)
    return out
