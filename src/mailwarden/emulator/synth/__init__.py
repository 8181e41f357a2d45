"""Synthetic tenants: realistic recorded tenants with a ground truth of what is wrong.

    tenant = generate("small", seed=7)
    write_synthetic(tenant, Path("out/tenant"))

The rules the ground truth follows are in `mailwarden.emulator.synth.truth`.
"""

from mailwarden.emulator.synth.api import (
    PLANTED_SCHEMA,
    SyntheticTenant,
    generate,
    user_count,
    write_synthetic,
)
from mailwarden.emulator.synth.constants import CHECK_IDS, COLLECTED_AT, SIZES
from mailwarden.emulator.synth.model import Custodian
from mailwarden.emulator.synth.truth import GroundTruth, PlantedFinding

__all__ = [
    "CHECK_IDS",
    "COLLECTED_AT",
    "PLANTED_SCHEMA",
    "SIZES",
    "Custodian",
    "GroundTruth",
    "PlantedFinding",
    "SyntheticTenant",
    "generate",
    "user_count",
    "write_synthetic",
]
