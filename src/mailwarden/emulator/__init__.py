"""The tenant emulator (SPEC section 3): Entra login, Microsoft Graph and the Exchange Online
admin API over a recorded or synthetic tenant, in process or on loopback HTTPS.

    app = create_app(generate("small").recorded, config=EmulatorConfig(graph_rate=50))
"""

from mailwarden.emulator.app import create_app, create_tenants_app, emulator_of
from mailwarden.emulator.conditions import EmulatorStats, ServiceStats
from mailwarden.emulator.config import (
    DEFAULT_CLIENT_SECRET,
    EmulatorConfig,
    FaultKind,
    Service,
    TargetedFault,
)
from mailwarden.emulator.necessary import necessary_requests
from mailwarden.emulator.runtime import Emulator
from mailwarden.emulator.serve import Served, run, serve_in_thread
from mailwarden.emulator.tenancy import Tenancy, TenantSpec, recorded_spec, tenancy_of

__all__ = [
    "DEFAULT_CLIENT_SECRET",
    "Emulator",
    "EmulatorConfig",
    "EmulatorStats",
    "FaultKind",
    "Served",
    "Service",
    "ServiceStats",
    "TargetedFault",
    "Tenancy",
    "TenantSpec",
    "create_app",
    "create_tenants_app",
    "emulator_of",
    "necessary_requests",
    "recorded_spec",
    "run",
    "serve_in_thread",
    "tenancy_of",
]
