"""`mailwarden emulator`: serve a recorded or synthetic tenant on 127.0.0.1 over HTTPS."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mailwarden.cli import app
from mailwarden.cli.ui import console, err_console
from mailwarden.emulator.config import CONSOLE_APP_ROLES, WebApp
from mailwarden.emulator.signing import IdTokenFault
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
    console_app: Annotated[
        str | None,
        typer.Option(
            "--console-app", metavar="CLIENT_ID",
            help="Register the mailwarden console as a web app people sign in to with OpenID "
            "Connect (authorization code + PKCE), under this application (client) id.",
        ),
    ] = None,
    console_redirect: Annotated[
        list[str] | None,
        typer.Option(
            "--console-redirect", metavar="URI",
            help="A redirect URI of the console app, matched exactly (repeat for more), e.g. "
            "http://127.0.0.1:8080/auth/callback.",
        ),
    ] = None,
    console_user: Annotated[
        list[str] | None,
        typer.Option(
            "--console-user", metavar="UPN=ROLE[,ROLE]",
            help="Assign app roles of the console app to a user (repeat for more): "
            f"{', '.join(CONSOLE_APP_ROLES)}. A UPN the tenant does not hold is added for "
            "sign-in; a tenant user without an assignment signs in with no roles claim.",
        ),
    ] = None,
    id_token_fault: Annotated[
        list[str] | None,
        typer.Option(
            "--id-token-fault", metavar="UPN=KIND",
            help="Forge the id tokens of this user (repeat for more), to see a client "
            f"refuse them: {', '.join(f.value for f in IdTokenFault)}.",
        ),
    ] = None,
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

    With --console-app, people sign in to that web app as Entra ID signs them in:
    /{tenant}/oauth2/v2.0/authorize shows a sign-in page (a user name, no password) and
    sends an authorization code to a --console-redirect URI; the token endpoint redeems
    it (grant_type=authorization_code, with the S256 PKCE code_verifier and the client
    secret "emulator-secret" or a certificate assertion) for an id token signed with a key
    made at start (RS256; /{tenant}/discovery/v2.0/keys), carrying the user's app roles
    (--console-user) in its roles claim. Wrong redirect URIs, missing PKCE, reused or
    expired codes and unknown clients are refused with Entra's AADSTS codes.

    Exit codes: 0 stopped; 2 bad usage, or the tenant or port cannot be used; 70 internal
    error."""
    from mailwarden.emulator import EmulatorConfig, create_tenants_app, recorded_spec, run
    from mailwarden.emulator.exchange_roles import role_profile

    if not 0.0 <= faults <= 1.0:
        raise ConfigError(f"--faults {faults}: give a probability between 0 and 1")
    if latency_graph < 0 or latency_exo < 0:
        raise ConfigError("--latency-graph and --latency-exo take milliseconds, 0 or more")
    role = role_profile(exchange_role)  # an unknown name fails before the tenant is built
    web_apps = _web_apps(console_app, console_redirect or [], console_user or [])
    forged = _id_token_faults(id_token_fault or [])
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
        web_apps=web_apps,
        id_token_faults=forged,
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
        for web in web_apps:
            err_console.print(f"web app {web.client_id}: sign-in redirects to "
                              f"{', '.join(web.redirect_uris)}", markup=False)
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


def _pairs(values: list[str], option: str, shape: str) -> list[tuple[str, str]]:
    pairs = []
    for value in values:
        name, sep, rest = value.partition("=")
        if not sep or not name.strip() or not rest.strip():
            raise ConfigError(f"{option} {value!r}: give {shape}")
        pairs.append((name.strip(), rest.strip()))
    return pairs


def _web_apps(client_id: str | None, redirects: list[str], users: list[str]) -> tuple[WebApp, ...]:
    """--console-app, --console-redirect and --console-user as the emulator's web app."""
    if client_id is None:
        if redirects or users:
            raise ConfigError("--console-redirect and --console-user need --console-app CLIENT_ID")
        return ()
    if not redirects:
        raise ConfigError("--console-app needs at least one --console-redirect URI (the "
                          "console's /auth/callback address)")
    assignments: dict[str, tuple[str, ...]] = {}
    for upn, text in _pairs(users, "--console-user", "UPN=ROLE[,ROLE]"):
        roles = tuple(r.strip() for r in text.split(",") if r.strip())
        unknown = [r for r in roles if r not in CONSOLE_APP_ROLES]
        if unknown:
            raise ConfigError(f"--console-user {upn}: {', '.join(unknown)} is not an app role "
                              f"of the console; use {', '.join(CONSOLE_APP_ROLES)}")
        assignments[upn.lower()] = tuple(dict.fromkeys(assignments.get(upn.lower(), ()) + roles))
    return (WebApp(client_id=client_id, redirect_uris=tuple(redirects), assignments=assignments),)


def _id_token_faults(values: list[str]) -> dict[str, IdTokenFault]:
    faults = {}
    for upn, kind in _pairs(values, "--id-token-fault", "UPN=KIND"):
        try:
            faults[upn.lower()] = IdTokenFault(kind)
        except ValueError:
            raise ConfigError(f"--id-token-fault {upn}={kind}: use one of "
                              f"{', '.join(f.value for f in IdTokenFault)}") from None
    return faults


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
