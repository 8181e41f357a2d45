"""Synthetic tenants: realistic recorded tenants with a ground truth of what is wrong.

    tenant = generate("small", seed=7)
    write_synthetic(tenant, Path("out/tenant"))

The rules the ground truth follows are in `mailwarden.synth.truth`.
"""

from mailwarden.synth.api import (
    SyntheticTenant,
    generate,
    user_count,
    write_synthetic,
)
from mailwarden.synth.build import TenantIdentity, tenant_identity
from mailwarden.synth.constants import CHECK_IDS, COLLECTED_AT, SIZES
from mailwarden.synth.model import Custodian
from mailwarden.synth.truth import GroundTruth, PlantedFinding

__all__ = [
    "CHECK_IDS",
    "COLLECTED_AT",
    "SIZES",
    "Custodian",
    "GroundTruth",
    "PlantedFinding",
    "SyntheticTenant",
    "TenantIdentity",
    "generate",
    "tenant_identity",
    "user_count",
    "write_synthetic",
]
