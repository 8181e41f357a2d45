"""`mailwarden emulator`: serve a recorded or synthetic tenant on 127.0.0.1 over HTTPS."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mailwarden.cli import app
from mailwarden.cli.ui import console, err_console
from mailwarden.errors import ConfigError
from mailwarden.tenant.recorded import RecordedTenant, read_recorded_tenant

if TYPE_CHECKING:
    from mailwarden.emulator import TenantSpec

#: What --throttle turns on: a busy tenant's limits, low enough to be met by one client.
THROTTLE_GRAPH_RATE = 50.0
THROTTLE_GRAPH_BURST = 50
THROTTLE_EXO_CONCURRENCY = 3
#: The most synthetic tenants one emulator serves.
MAX_TENANTS = 1000


@app.command()
def emulator(
    tenant_dir: Annotated[
        Path | None,
        typer.Option("--tenant-dir", help="A recorded tenant directory to serve."),
    ] = None,
    synthetic: Annotated[
        str | None,
        typer.Option("--synthetic", help="Serve a synthetic tenant: small, medium or large."),
    ] = None,
    seed: Annotated[
        int, typer.Option("--seed", help="Seed of the synthetic tenant and of the faults.")
    ] = 0,
    tenants: Annotated[
        int,
        typer.Option(
            "--tenants", min=1, max=MAX_TENANTS,
            help="Serve this many synthetic tenants at once (with --synthetic), tenant i "
            "with seed --seed + i; each has its own state, throttling and counts, and is "
            "built when a request first names it. Sign in at /{tenant id}/oauth2/v2.0/token.",
        ),
    ] = 1,
    profile: Annotated[
        str,
        typer.Option(
            "--profile",
            help="Licences of the synthetic tenant: mixed, business-basic, e3 or e5 (see "
            "synth --help). The emulator refuses what they do not cover, as Graph does.",
        ),
    ] = "mixed",
    port: Annotated[int, typer.Option("--port", help="Port on 127.0.0.1; 0 picks a free one.")] = 0,
    ca_out: Annotated[
        Path | None,
        typer.Option("--ca-out", help="Write the CA certificate that clients must trust here."),
    ] = None,
    latency_graph: Annotated[
        float, typer.Option("--latency-graph", help="Milliseconds added to each Graph answer.")
    ] = 0.0,
    latency_exo: Annotated[
        float,
        typer.Option("--latency-exo", help="Milliseconds added to each Exchange answer."),
    ] = 0.0,
    throttle: Annotated[
        bool,
        typer.Option(
            "--throttle",
            help=f"Throttle like a busy tenant: Graph at {THROTTLE_GRAPH_RATE:g} requests/s "
            f"(429 + Retry-After), Exchange at {THROTTLE_EXO_CONCURRENCY} requests in flight.",
        ),
    ] = False,
    faults: Annotated[
        float,
        typer.Option(
            "--faults",
            help="Probability (0-1) that a request fails: 5xx, timeout, dropped connection "
            "or truncated page.",
        ),
    ] = 0.0,
    graph_permissions: Annotated[
        str | None,
        typer.Option(
            "--graph-permissions",
            help="The Microsoft Graph application permissions granted to the app, "
            "comma-separated (e.g. User.Read.All,GroupMember.Read.All): tokens carry them "
            "in their roles claim and Graph refuses what they do not grant. Default: every "
            "permission mailwarden reads with.",
        ),
    ] = None,
    exchange_role: Annotated[
        str,
        typer.Option(
            "--exchange-role",
            help="The Exchange role of the calling app, which decides the cmdlets Exchange "
            "refuses: exchange-administrator (runs everything), "
            "view-only-organization-management, global-reader, or "
            "recipient-administrator-and-global-reader.",
        ),
    ] = "exchange-administrator",
) -> None:
    """Serve a tenant as Entra ID, Microsoft Graph and Exchange Online on 127.0.0.1.

    The first line printed is the base URL: use it as --login-url, --graph-url and
    --exo-url, and trust the CA written to --ca-out (--ca-bundle). The token endpoint
    accepts any client id with the client secret "emulator-secret" (put it in
    MAILWARDEN_CLIENT_SECRET), a certificate assertion, or a device-code sign-in that
    approves itself. GET /_emulator/stats shows the requests served; POST
    /_emulator/logs/signIns (directoryAudits, ual) with a JSON array of records logs them
    now, as if they had just happened. With --tenants, GET /_emulator/tenants lists every
    tenant with its counts and the limits its clients asked beyond, and
    /_emulator/tenants/{id}/stats and /_emulator/tenants/{id}/logs/{kind} are one
    tenant's. Stops on Ctrl-C.

    Exit codes: 0 stopped; 2 bad usage, or the tenant or port cannot be used; 70 internal
    error."""
    from mailwarden.emulator import EmulatorConfig, create_tenants_app, recorded_spec, run
    from mailwarden.emulator.exchange_roles import role_profile

    if not 0.0 <= faults <= 1.0:
        raise ConfigError(f"--faults {faults}: give a probability between 0 and 1")
    if latency_graph < 0 or latency_exo < 0:
        raise ConfigError("--latency-graph and --latency-exo take milliseconds, 0 or more")
    role = role_profile(exchange_role)  # an unknown name fails before the tenant is built
    if tenants > 1 and synthetic is None:
        raise ConfigError("--tenants serves synthetic tenants: give --synthetic SIZE")
    specs = _synthetic_specs(synthetic, seed, tenants, profile) if tenants > 1 else (
        recorded_spec(*_tenant(tenant_dir, synthetic, seed, profile)),)
    config = EmulatorConfig(
        graph_latency=latency_graph / 1000,
        exo_latency=latency_exo / 1000,
        graph_rate=THROTTLE_GRAPH_RATE if throttle else None,
        graph_burst=THROTTLE_GRAPH_BURST,
        exo_concurrency=THROTTLE_EXO_CONCURRENCY if throttle else None,
        fault_rate=faults,
        seed=seed,
        graph_permissions=_permissions(graph_permissions),
        exchange_role=role.name,
    )
    def ready(base_url: str) -> None:
        console.print(base_url, markup=False, highlight=False, soft_wrap=True)
        sys.stdout.flush()  # whoever started us reads the URL before anything else
        if tenants > 1:
            err_console.print(f"serving {tenants} tenants, {specs[0].tenant_id} to "
                              f"{specs[-1].tenant_id}; GET /_emulator/tenants lists them",
                              markup=False)
        else:
            err_console.print(f"serving tenant {specs[0].tenant_id}", markup=False)
        err_console.print(f"Exchange role of the caller: {role.name}", markup=False)
        if ca_out is not None:
            err_console.print(f"CA certificate: {ca_out}", markup=False)
        err_console.print('client secret: "emulator-secret"; stop with Ctrl-C', markup=False)

    try:
        run(create_tenants_app(specs, config=config), port=port, ca_out=ca_out,
            on_ready=ready)
    except KeyboardInterrupt:
        err_console.print("emulator stopped")


def _permissions(text: str | None) -> frozenset[str] | None:
    """--graph-permissions as a set (an empty value grants nothing); None when not given."""
    if text is None:
        return None
    return frozenset(name.strip() for name in text.split(",") if name.strip())


Logs = Mapping[Any, Iterable[Mapping[str, Any]]]


def _synthetic_specs(
    size: str | None, seed: int, count: int, profile: str
) -> tuple[TenantSpec, ...]:
    """`count` synthetic tenants, tenant i of seed `seed + i`, each built on first use."""
    from mailwarden.emulator import TenantSpec
    from mailwarden.synth import generate, tenant_identity, user_count
    from mailwarden.synth.licensing import licensing
    from mailwarden.synth.logs import synthetic_logs

    assert size is not None
    user_count(size)  # an unknown size or profile fails now, not at the first request
    licensing(profile)

    def builder(tenant_seed: int) -> Callable[[], RecordedTenant]:
        return lambda: generate(size, seed=tenant_seed, profile=profile).recorded

    def logs_of(tenant_seed: int) -> Callable[[], Logs]:
        def logs() -> Logs:
            # The logs are drawn from the generator's model, the same for every profile.
            tenant = generate(size, seed=tenant_seed, profile=profile)
            if tenant.model is None:
                return {}
            return synthetic_logs(tenant.model, size=tenant.size, seed=tenant_seed).by_kind()

        return logs

    specs = []
    for index in range(count):
        identity = tenant_identity(seed + index)
        specs.append(TenantSpec(tenant_id=identity.tenant_id, domains=identity.verified_domains,
                                build=builder(seed + index), logs=logs_of(seed + index)))
    return tuple(specs)


def _tenant(
    tenant_dir: Path | None, synthetic: str | None, seed: int, profile: str = "mixed"
) -> tuple[RecordedTenant, Logs]:
    """The tenant to serve and its sign-in, directory-audit and audit-log records."""
    from mailwarden.emulator.logs_store import read_log_directory
    from mailwarden.synth import generate
    from mailwarden.synth.logs import synthetic_logs

    if (tenant_dir is None) == (synthetic is None):
        raise ConfigError("give exactly one of --tenant-dir DIR and --synthetic SIZE")
    if tenant_dir is not None:
        if profile != "mixed":
            raise ConfigError("--profile applies to --synthetic; a recorded tenant's licences "
                              "are its graph/subscribedSkus.json")
        return read_recorded_tenant(tenant_dir), read_log_directory(tenant_dir)
    assert synthetic is not None
    with err_console.status(f"generating a synthetic tenant ({synthetic}, seed {seed})"):
        tenant = generate(synthetic, seed=seed, profile=profile)
        logs: Logs = {}
        if tenant.model is not None:
            logs = synthetic_logs(tenant.model, size=tenant.size, seed=seed).by_kind()
        return tenant.recorded, logs
