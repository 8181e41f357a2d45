"""Settings: clouds, overrides keep the token audience, layering, and no secrets in files."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailwarden.errors import ConfigError
from mailwarden.settings import AuthMethod, Cloud, CollectMode, Settings, load_settings


def test_sovereign_clouds_have_their_own_endpoints_and_scopes() -> None:
    gcc_high = Settings(cloud=Cloud.USGOV)
    assert gcc_high.endpoints.graph_url == "https://graph.microsoft.us"
    assert gcc_high.endpoints.exo_url == "https://outlook.office365.us"
    assert gcc_high.exo_scope == "https://outlook.office365.us/.default"
    dod = Settings(cloud=Cloud.DOD)
    assert dod.endpoints.graph_url == "https://dod-graph.microsoft.us"
    assert dod.exo_scope == "https://outlook-dod.office365.us/.default"
    china = Settings(cloud=Cloud.CHINA)
    assert china.endpoints.login_url == "https://login.chinacloudapi.cn"
    assert china.graph_scope == "https://microsoftgraph.chinacloudapi.cn/.default"


def test_overridden_urls_keep_the_resource_scopes() -> None:
    settings = Settings(
        graph_url="https://127.0.0.1:8443/",
        exo_url="https://127.0.0.1:8443",
        login_url="https://127.0.0.1:8443",
    )
    assert settings.endpoints.graph_url == "https://127.0.0.1:8443"
    assert settings.graph_scope == "https://graph.microsoft.com/.default"
    assert settings.exo_scope == "https://outlook.office365.com/.default"
    assert settings.uses_custom_login
    assert not Settings().uses_custom_login


def test_layers_toml_then_environment_then_flags(tmp_path: Path) -> None:
    toml = tmp_path / "mailwarden.toml"
    toml.write_text(
        '[mailwarden]\ntenant = "from-toml"\nclient_id = "toml-app"\nexo_concurrency = 2\n'
        'collect_mode = "sequential"\n[mailwarden.retry]\nmax_attempts = 9\n',
        encoding="utf-8",
    )
    env = {"MAILWARDEN_CLIENT_ID": "env-app", "MAILWARDEN_CLOUD": "USGOV"}
    settings = load_settings(toml_path=toml, env=env, tenant="flag-tenant", client_id=None)
    assert settings.tenant == "flag-tenant"
    assert settings.client_id == "env-app"
    assert settings.cloud is Cloud.USGOV
    assert settings.exo_concurrency == 2
    assert settings.collect_mode is CollectMode.SEQUENTIAL
    assert settings.retry.max_attempts == 9


def test_certificate_is_preferred_over_a_secret() -> None:
    assert Settings().effective_auth() is AuthMethod.SECRET
    assert Settings(certificate_path=Path("c.pem")).effective_auth() is AuthMethod.CERTIFICATE
    assert Settings(auth=AuthMethod.DEVICE_CODE).effective_auth() is AuthMethod.DEVICE_CODE


def test_secrets_are_refused_in_settings_files(tmp_path: Path) -> None:
    toml = tmp_path / "s.toml"
    toml.write_text('tenant = "t"\nclient_secret = "hunter2"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(toml_path=toml, env={})
    assert "MAILWARDEN_CLIENT_SECRET" in str(caught.value)
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize(
    ("key", "value"),
    [("cloud", "mars"), ("graph_concurrency", "0"), ("read_timeout", "-1"), ("nope", "1")],
)
def test_bad_values_are_config_errors(key: str, value: str) -> None:
    with pytest.raises(ConfigError):
        load_settings(env={}, **{key: value})


def test_missing_tenant_and_client_id_say_how_to_fix() -> None:
    with pytest.raises(ConfigError, match="MAILWARDEN_TENANT"):
        Settings().require_tenant()
    with pytest.raises(ConfigError, match="MAILWARDEN_CLIENT_ID"):
        Settings().require_client_id()


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("cloud", "mars", "setting 'cloud': 'mars' is not valid (use global, usgov, dod or china)"),
        ("auth", "pw", "(use certificate, secret or device-code)"),
        ("graph_concurrency", "x", "'x' is not valid (give a whole number)"),
        ("read_timeout", "soon", "'soon' is not valid (give a number)"),
        ("graph_rate", "0", "'0' is not valid (must be positive: requests per second)"),
        ("exo_rate", "nan", "'nan' is not valid (must be positive: requests per second)"),
        ("graph_burst", "2.5", "'2.5' is not valid (give a whole number)"),
        ("exo_burst", "0", "'0' is not valid (must be at least 1)"),
    ],
)
def test_bad_values_say_what_to_give(key: str, value: str, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(env={}, **{key: value})
    assert words in str(caught.value)


def test_a_rate_budget_comes_from_the_file_or_the_environment_and_a_burst_needs_a_rate(
        tmp_path: Path) -> None:
    toml = tmp_path / "s.toml"
    toml.write_text("[mailwarden]\ngraph_rate = 150\nexo_rate = 2.5\n", encoding="utf-8")
    settings = load_settings(toml_path=toml, env={"MAILWARDEN_GRAPH_BURST": "300",
                                                  "MAILWARDEN_EXO_RATE": "4"})
    assert (settings.graph_rate, settings.graph_burst) == (150.0, 300)
    assert (settings.exo_rate, settings.exo_burst) == (4.0, None)
    assert Settings().graph_rate is None and Settings().exo_rate is None  # off by default
    with pytest.raises(ConfigError, match="setting 'exo_burst' needs 'exo_rate'"):
        load_settings(env={"MAILWARDEN_EXO_BURST": "10"})


def test_settings_file_errors_name_keys_without_python_lists(tmp_path: Path) -> None:
    toml = tmp_path / "s.toml"
    toml.write_text('client_secret = "hunter2"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"s\.toml: remove client_secret; secrets are read"):
        load_settings(toml_path=toml, env={})
    toml.write_text("colud = 'global'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"s\.toml: unknown setting colud$"):
        load_settings(toml_path=toml, env={})


def test_the_exceptions_file_comes_from_toml_then_the_environment(tmp_path: Path) -> None:
    toml = tmp_path / "mailwarden.toml"
    toml.write_text('[mailwarden]\nexceptions_file = "~/accepted.yaml"\n', encoding="utf-8")
    from_toml = load_settings(toml_path=toml, env={})
    assert from_toml.exceptions_file == Path("~/accepted.yaml").expanduser()
    from_env = load_settings(toml_path=toml, env={"MAILWARDEN_EXCEPTIONS": "/etc/exc.yaml"})
    assert from_env.exceptions_file == Path("/etc/exc.yaml")
    assert load_settings(env={}).exceptions_file is None


def test_break_glass_accounts_come_from_toml_then_environment_then_flags(tmp_path: Path) -> None:
    config = tmp_path / "mailwarden.toml"
    config.write_text('break_glass = ["bg1@contoso.com", "bg2@contoso.com"]\n')
    assert load_settings(toml_path=config, env={}).break_glass == (
        "bg1@contoso.com", "bg2@contoso.com")
    env = {"MAILWARDEN_BREAK_GLASS": " bg3@contoso.com, 0f0e4a3b-0000-0000-0000-000000000001,"}
    assert load_settings(toml_path=config, env=env).break_glass == (
        "bg3@contoso.com", "0f0e4a3b-0000-0000-0000-000000000001")
    assert load_settings(env=env, break_glass=("bg4@contoso.com",)).break_glass == (
        "bg4@contoso.com",)
    config.write_text("break_glass = 3\n")
    with pytest.raises(ConfigError, match="break_glass"):
        load_settings(toml_path=config, env={})
