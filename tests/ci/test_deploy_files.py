"""The deployment files in deploy/ say what they mean: every command line they run names
mailwarden commands and options that exist (checked against the real CLI), the systemd
units carry the keys a service needs, compose.yaml wires the services as documented, and
nothing secret is written in any of them. Fast and offline: nothing is started."""

from __future__ import annotations

import configparser
import re
import shlex
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import typer.main
import yaml

from mailwarden.cli import command_app
from mailwarden.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SYSTEMD = DEPLOY / "systemd"
COMPOSE = DEPLOY / "compose.yaml"
ENV_EXAMPLE = DEPLOY / "mailwarden.env.example"
DOCKERFILE = DEPLOY / "Dockerfile"

SERVICE_UNITS = ("mailwarden-worker@.service", "mailwarden-scheduler.service",
                 "mailwarden-console.service")
#: What the deployment runs: the workers, the scheduler, the console.
SERVICE_COMMANDS = {("worker",), ("fleet", "scheduler"), ("console",)}


# --- checking a command line against the CLI ----------------------------------------------

@dataclass
class Checked:
    """What checking one command line found: `missing` names a command the CLI does not
    have (the check stops there); `problems` are what the command's own parser refused."""

    missing: str | None = None
    problems: list[str] = field(default_factory=list)


def _root_command() -> Any:
    # typer builds click commands (typer 0.29 on, its own copy of click): they are read
    # here by what every version has (`commands`, `make_context`), whichever click it is.
    return typer.main.get_command(command_app())


def _substituted(word: str) -> bool:
    """A word systemd or compose fills in when it runs (`${VAR}`, `%i`): not checkable."""
    return "$" in word or "%" in word


def _checkable(words: Sequence[str]) -> tuple[list[str], list[str]]:
    """`words` without the substituted values, and the options whose value was taken out
    (an option and its value go together); a substituted positional becomes a plain word."""
    kept: list[str] = []
    unchecked: list[str] = []
    for word in words:
        if not _substituted(word):
            kept.append(word)
        elif word.startswith("--") and "=" in word:
            unchecked.append(word.partition("=")[0])
        elif kept and kept[-1].startswith("-") and "=" not in kept[-1]:
            unchecked.append(kept.pop())
        else:
            kept.append("value")
    return kept, unchecked


def check_command_line(root: Any, argv: Sequence[str]) -> Checked:
    """Follow `argv` (the words after `mailwarden`) down the command groups, then let the
    command's own parser read the rest as the command would when it runs (options and
    flags that exist, values their types accept, positionals, required options), without
    running it."""
    command, path = root, ["mailwarden"]
    index = 0
    while index < len(argv) and getattr(command, "commands", None) is not None:
        word = argv[index]
        if word.startswith("-"):
            break
        sub = command.commands.get(word)
        if sub is None:
            return Checked(missing=f"{' '.join(path)} {word}")
        command = sub
        path.append(word)
        index += 1
    found = Checked()
    if getattr(command, "commands", None) and not command.invoke_without_command:
        found.problems.append(f"`{' '.join(path)}` needs a subcommand")
        return found
    words, unchecked = _checkable(argv[index:])
    try:
        command.make_context(" ".join(path), words)
    except Exception as exc:  # click's (or typer's copy of click's) usage errors
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        found.problems.append(f"`{' '.join(path)}`: {message}")
    names = {name for param in command.params
             for name in (*param.opts, *getattr(param, "secondary_opts", ()))}
    found.problems.extend(f"`{' '.join(path)}` has no option {name}"
                          for name in unchecked if name not in names)
    return found


def command_words(argv: Sequence[str]) -> tuple[str, ...]:
    """The command a line runs: its words before the first option."""
    words: list[str] = []
    for word in argv:
        if word.startswith("-"):
            break
        words.append(word)
    return tuple(words)


# --- reading the deployment files ---------------------------------------------------------

class _Unit(configparser.ConfigParser):
    """A systemd unit: keys keep their case; a repeated key keeps its last value."""

    def optionxform(self, optionstr: str) -> str:
        return optionstr


def _unit(name: str) -> _Unit:
    unit = _Unit(strict=False, interpolation=None, delimiters=("=",),
                 comment_prefixes=("#", ";"))
    unit.read_string((SYSTEMD / name).read_text(encoding="utf-8"), source=name)
    return unit


def _exec_argv(unit: _Unit) -> list[str]:
    """ExecStart's words after the mailwarden executable."""
    words = shlex.split(unit["Service"]["ExecStart"])
    executable = words[0].lstrip("-@+!:")
    assert PurePosixPath(executable).name == "mailwarden", executable
    assert PurePosixPath(executable).is_absolute(), f"ExecStart needs a full path: {executable}"
    return words[1:]


def _compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def _mailwarden_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: service for name, service in compose["services"].items()
            if service.get("build", {}).get("dockerfile") == "deploy/Dockerfile"}


def _value(argv: Sequence[str], option: str) -> str:
    for index, word in enumerate(argv):
        if word == option:
            return argv[index + 1]
        if word.startswith(f"{option}="):
            return word.partition("=")[2]
    raise AssertionError(f"{option} not given in {shlex.join(argv)}")


def command_lines() -> Iterator[tuple[str, list[str]]]:
    """(where, words after `mailwarden`) for every unit's ExecStart and compose service."""
    for name in SERVICE_UNITS:
        yield f"systemd/{name}", _exec_argv(_unit(name))
    for name, service in _mailwarden_services(_compose()).items():
        command = service["command"]
        assert isinstance(command, list) and command[0] == "mailwarden", (name, command)
        yield f"compose.yaml:{name}", [str(word) for word in command[1:]]


_SPAN = re.compile(r"(\d+)(min|ms|sec|s|m|hr|h)?")
_SECONDS = {None: 1.0, "ms": 0.001, "s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0,
            "h": 3600.0, "hr": 3600.0}


def span_seconds(text: str) -> float:
    """A systemd or compose time span ("10min", "1m 30s", "600") in seconds."""
    compact = text.replace(" ", "")
    parts = list(_SPAN.finditer(compact))
    assert parts and "".join(p.group(0) for p in parts) == compact, f"not a time span: {text}"
    return sum(int(p.group(1)) * _SECONDS[p.group(2)] for p in parts)


# --- secrets ------------------------------------------------------------------------------

_SECRET_NAME = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|CREDENTIAL|(^|_)KEY$")
_URL_PASSWORD = re.compile(r"://[^/@\s:]*:[^/@\s]+@")
_RANDOM = re.compile(r"[A-Za-z0-9~._+/=-]{20,}")


def looks_secret(name: str, value: str) -> bool:
    """A value that may be a real secret: any value of a variable named like a secret, a URL
    holding a password, or a long random-looking string (mixed case and digits, no URL)."""
    value = value.strip().strip("'\"")
    if not value:
        return False
    if _SECRET_NAME.search(name.upper()) or _URL_PASSWORD.search(value):
        return True
    return any("://" not in m.group(0) and "/" not in m.group(0)
               and re.search(r"[a-z]", m.group(0)) and re.search(r"[A-Z]", m.group(0))
               and re.search(r"\d", m.group(0))
               for m in _RANDOM.finditer(value))


_ASSIGNMENT = re.compile(r"^(#\s*)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$")


def env_assignments(text: str) -> tuple[dict[str, str], dict[str, str]]:
    """(set, commented out) assignments of an environment file."""
    active: dict[str, str] = {}
    commented: dict[str, str] = {}
    for line in text.splitlines():
        match = _ASSIGNMENT.match(line.strip())
        if match:
            (commented if match.group(1) else active)[match.group(2)] = match.group(3)
    return active, commented


# --- tests: the checker itself ------------------------------------------------------------

def test_the_checker_accepts_real_command_lines_and_names_what_is_wrong() -> None:
    root = _root_command()
    assert check_command_line(root, ["fleet", "status", "--format", "json"]) == Checked()
    assert check_command_line(root, ["fleet", "run", "--now", "contoso.com"]) == Checked()
    assert check_command_line(root, ["console", "--port=8765", "--auth", "entra"]) == Checked()
    # Values filled in when the service starts are not checked; the rest still is.
    assert check_command_line(root, ["console", "--port", "87%i", "--host", "::1"]) == Checked()
    assert check_command_line(root, ["console", "--public-url=${URL}"]) == Checked()

    assert check_command_line(root, ["fleet", "nosuch", "--x"]).missing == "mailwarden fleet nosuch"
    assert check_command_line(root, ["nosuch"]).missing == "mailwarden nosuch"

    def problem(*argv: str) -> str:
        checked = check_command_line(root, argv)
        assert checked.missing is None and len(checked.problems) == 1, checked
        return checked.problems[0]

    assert "--bogus" in problem("fleet", "status", "--bogus")
    assert "--bogus" in problem("fleet", "status", "--format", "json", "--bogus", "${X}")
    assert "--port" in problem("console", "--port", "eighty")
    assert "--now" in problem("fleet", "run", "--now=yes")
    assert "extra" in problem("fleet", "status", "extra")
    assert "--client-id" in problem("fleet", "add", "contoso.com")
    assert problem("fleet") == "`mailwarden fleet` needs a subcommand"


def test_time_spans_and_the_secret_heuristic() -> None:
    assert span_seconds("10min") == 600
    assert span_seconds("1m 30s") == 90
    assert span_seconds("45") == 45
    assert looks_secret("FABRIKAM_SECRET", "anything")
    assert looks_secret("MAILWARDEN_DB", "postgresql://mailwarden:hunter2@db/mailwarden")
    assert looks_secret("OTHER", "Xy8Q~4bR.t7PzKq2mN_vW9sLd3FgH1jK")
    assert not looks_secret("FABRIKAM_SECRET", "")
    assert not looks_secret("MAILWARDEN_REDIS_URL", "redis://127.0.0.1:6379/0")
    assert not looks_secret("MAILWARDEN_DB", "postgresql://mailwarden@db.example.internal/x")


# --- tests: the command lines -------------------------------------------------------------

def test_systemd_and_compose_run_the_worker_the_scheduler_and_the_console() -> None:
    lines = list(command_lines())
    for origin in ("systemd/", "compose.yaml:"):
        named = {command_words(argv) for where, argv in lines if where.startswith(origin)}
        assert named == SERVICE_COMMANDS, origin


@pytest.mark.parametrize(("where", "argv"), list(command_lines()),
                         ids=[where for where, _ in command_lines()])
def test_command_line_names_existing_commands_and_options(where: str, argv: list[str]) -> None:
    checked = check_command_line(_root_command(), argv)
    if checked.missing is not None:
        pytest.fail(f"{where} runs `{checked.missing}`, which this mailwarden does not have "
                    f"(`mailwarden {shlex.join(argv)}`)", pytrace=False)
    assert checked.problems == [], where


# --- tests: systemd -----------------------------------------------------------------------

@pytest.mark.parametrize("name", SERVICE_UNITS)
def test_service_unit_runs_hardened_as_its_own_user(name: str) -> None:
    unit = _unit(name)
    assert unit["Unit"]["Description"]
    assert unit["Unit"]["PartOf"] == "mailwarden.target"
    assert "network-online.target" in unit["Unit"]["After"].split()
    service = unit["Service"]
    assert service["User"] == service["Group"] == "mailwarden"
    assert service["EnvironmentFile"] == "/etc/mailwarden/mailwarden.env"
    assert service["Restart"] == "on-failure"
    assert service["KillSignal"] == "SIGTERM"
    assert span_seconds(service["TimeoutStopSec"]) >= 30
    expected = {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
                "PrivateTmp": "yes", "PrivateDevices": "yes", "RestrictNamespaces": "yes",
                "RestrictSUIDSGID": "yes", "CapabilityBoundingSet": "", "UMask": "0077"}
    assert {key: service.get(key) for key in expected} == expected
    assert set(service["RestrictAddressFamilies"].split()) == {"AF_INET", "AF_INET6", "AF_UNIX"}
    assert unit["Install"]["WantedBy"] == "mailwarden.target"


def test_workers_are_templated_write_only_their_state_and_stop_gracefully() -> None:
    unit = _unit("mailwarden-worker@.service")
    argv = _exec_argv(unit)
    service = unit["Service"]
    state = PurePosixPath(_value(argv, "--state-dir"))
    writable = [PurePosixPath(p) for p in service["ReadWritePaths"].split()]
    assert any(state.is_relative_to(p) for p in writable), (state, writable)
    assert unit["Unit"]["RequiresMountsFor"] == "/var/lib/mailwarden"
    # A job finishes its current step (or is redelivered) before systemd kills it.
    assert span_seconds(service["TimeoutStopSec"]) >= 300
    assert service["KillMode"] == "mixed"
    # Instances on one machine must not clash on the metrics port.
    assert "%i" in _value(argv, "--metrics-port")
    assert _value(argv, "--metrics-host") == "127.0.0.1"


def test_the_console_unit_listens_on_loopback_in_team_mode() -> None:
    argv = _exec_argv(_unit("mailwarden-console.service"))
    assert _value(argv, "--host") == "127.0.0.1"
    assert _value(argv, "--auth") == "entra"
    assert _value(argv, "--public-url") == "${MAILWARDEN_CONSOLE_URL}"


def test_the_target_groups_the_services() -> None:
    target = _unit("mailwarden.target")
    assert target["Unit"]["Description"]
    assert target["Install"]["WantedBy"] == "multi-user.target"
    for name in SERVICE_UNITS:
        assert _unit(name)["Install"]["WantedBy"] == "mailwarden.target"


# --- tests: compose -----------------------------------------------------------------------

def test_compose_persists_the_queue_and_the_database() -> None:
    services = _compose()["services"]
    redis = services["redis"]
    assert redis["command"][:3] == ["redis-server", "--appendonly", "yes"]
    assert any(str(v).endswith(":/data") for v in redis["volumes"])
    assert redis["healthcheck"]["test"]
    postgres = services["postgres"]
    assert any(str(v).endswith(":/var/lib/postgresql/data") for v in postgres["volumes"])
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert postgres["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")
    assert "ports" not in redis and "ports" not in postgres


def test_compose_services_wait_for_healthy_redis_and_postgres() -> None:
    services = _mailwarden_services(_compose())
    assert set(services) == {"scheduler", "worker", "console"}
    for name, service in services.items():
        assert service["build"]["context"] == "..", name
        assert service["depends_on"] == {"redis": {"condition": "service_healthy"},
                                         "postgres": {"condition": "service_healthy"}}, name
        environment = service["environment"]
        assert environment["MAILWARDEN_DB"].startswith("postgresql://mailwarden@postgres:")
        assert environment["MAILWARDEN_REDIS_URL"].startswith("redis://redis:")
        for key, value in environment.items():
            assert str(value).startswith("${") or not looks_secret(key, str(value)), key
    worker = services["worker"]
    assert worker["deploy"]["replicas"] >= 2
    assert span_seconds(worker["stop_grace_period"]) >= 300
    state = PurePosixPath(_value([str(w) for w in worker["command"]], "--state-dir"))
    mounts = [PurePosixPath(str(v).split(":")[1]) for v in worker["volumes"]]
    assert any(state.is_relative_to(m) for m in mounts), (state, mounts)


def published_host_ip(entry: str | dict[str, Any]) -> str | None:
    """The host address a compose port is published on (None: every address)."""
    if isinstance(entry, dict):
        return entry.get("host_ip")
    text = str(entry)
    if text.startswith("["):
        return text[1:text.index("]")]
    parts = text.split(":")
    return parts[0] if len(parts) == 3 else None


def test_only_the_console_is_published_and_only_on_loopback() -> None:
    assert published_host_ip("127.0.0.1:8765:8765") == "127.0.0.1"
    assert published_host_ip("8765:8765") is None
    assert published_host_ip({"target": 8765, "published": 8765}) is None
    published = {name: service["ports"] for name, service in _compose()["services"].items()
                 if "ports" in service}
    assert set(published) == {"console"}
    assert [published_host_ip(p) for p in published["console"]] == ["127.0.0.1"]


def test_dockerfile_builds_the_project_as_a_non_root_user_without_secrets() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    lines = [line.strip() for line in text.splitlines() if line.strip()
             and not line.lstrip().startswith("#")]
    assert lines[0] == "FROM python:3.12-slim"
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    assert "pip install ." in text
    copied = [word for line in lines if line.startswith("COPY ") for word in line.split()[1:-1]]
    assert sorted(copied) == ["README.md", "pyproject.toml", "src"]
    declared = " ".join(line for line in lines if line.startswith(("ENV ", "ARG ")))
    assert not _SECRET_NAME.search(declared.upper().replace("\\", " ")), declared


# --- tests: the environment file ----------------------------------------------------------

def test_env_example_holds_no_secret() -> None:
    active, commented = env_assignments(ENV_EXAMPLE.read_text(encoding="utf-8"))
    assert {"MAILWARDEN_DB", "MAILWARDEN_REDIS_URL"} <= set(active)
    for name, value in {**active, **commented}.items():
        assert not looks_secret(name, value), f"{ENV_EXAMPLE.name}: {name} holds a value"
    # The secrets the deployment needs are there to fill in.
    assert {"PGPASSWORD", "POSTGRES_PASSWORD", "MAILWARDEN_CONSOLE_SECRET"} <= set(commented)


def test_env_example_names_documented_variables_and_every_one_the_deployment_uses() -> None:
    active, commented = env_assignments(ENV_EXAMPLE.read_text(encoding="utf-8"))
    config = (ROOT / "docs" / "config.md").read_text(encoding="utf-8")
    for name in (*active, *commented):
        if name.startswith("MAILWARDEN_"):
            assert f"`{name}`" in config, f"{name} is not in docs/config.md"
    used = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", COMPOSE.read_text(encoding="utf-8")))
    for name in SERVICE_UNITS:
        used |= set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)\}", _unit(name)["Service"]["ExecStart"]))
    assert used, "no variable found: the pattern is wrong"
    assert used <= set(active) | set(commented), used - set(active) - set(commented)


def test_console_settings_example_loads() -> None:
    settings = load_settings(toml_path=DEPLOY / "console.example.toml", env={})
    assert settings.console_client_id == "00000000-0000-0000-0000-000000000000"
    assert settings.console_client_secret_env == "MAILWARDEN_CONSOLE_CLIENT_SECRET"


# --- tests: the documented steps ----------------------------------------------------------

FLEET_DOC = ROOT / "docs" / "fleet.md"
_SH_BLOCK = re.compile(r"^[ \t]*```sh\n(.*?)^[ \t]*```", re.S | re.M)


def documented_command_lines() -> list[tuple[str, list[str]]]:
    """The mailwarden command lines of docs/fleet.md's "Deployment" section: `mw ...` (the
    systemd steps' helper) and `mailwarden ...` run in a compose service."""
    text = FLEET_DOC.read_text(encoding="utf-8")
    section = text[text.index("\n## Deployment\n"):]
    section = section[:section.index("\n## ", 1)]
    services = set(_mailwarden_services(_compose()))
    found: list[tuple[str, list[str]]] = []
    for block in _SH_BLOCK.findall(section):
        for line in re.sub(r"\\\n\s*", " ", block).splitlines():
            words = shlex.split(line, comments=True)
            if words[:1] == ["mw"]:
                found.append((line.strip(), words[1:]))
            found.extend((line.strip(), words[i + 1:]) for i, word in enumerate(words)
                         if word == "mailwarden" and i > 0 and words[i - 1] in services)
    return found


def test_deployment_steps_run_commands_that_exist() -> None:
    lines = documented_command_lines()
    assert len(lines) >= 6, lines
    root = _root_command()
    for line, argv in lines:
        assert check_command_line(root, argv) == Checked(), line
    assert "Measured figures: see benchmarks/README.md (fleet)" in FLEET_DOC.read_text(
        encoding="utf-8")
