"""`mailwarden config init` writes every setting at its default, and docs/config.md
describes every setting and environment variable: both are made from the settings
definition, and these tests fail when a setting is added without its description."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import tomllib
from dataclasses import fields
from pathlib import Path

from mailwarden.settings import RetryPolicy, Settings, load_settings
from mailwarden.settings_doc import DOCS, config_markdown, config_toml, entries

ROOT = Path(__file__).resolve().parents[2]


def mailwarden(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mailwarden", *args], capture_output=True,
                          text=True, timeout=60, check=False,
                          env={**os.environ, "COLUMNS": "200"})


def test_config_init_writes_a_private_file_that_loads_as_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "mailwarden.toml"
    done = mailwarden("config", "init", "--out", str(path))
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_settings(toml_path=path, env={}) == Settings()
    # Uncommenting the examples gives settings the loader accepts, too.
    filled = re.sub(r"^# (\w+ = .*)$", r"\1", path.read_text(encoding="utf-8"), flags=re.M)
    loaded = load_settings(toml_path=_written(tmp_path / "filled.toml", filled), env={})
    assert loaded.tenant == "contoso.onmicrosoft.com"
    assert loaded.certificate_path == Path("/etc/mailwarden/app.pem")


def _written(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_config_init_refuses_to_replace_a_file_without_force(tmp_path: Path) -> None:
    path = _written(tmp_path / "mailwarden.toml", "# mine\n")
    refused = mailwarden("config", "init", "--out", str(path))
    assert refused.returncode == 2
    assert "--force" in refused.stderr and str(path) in " ".join(refused.stderr.split())
    assert path.read_text(encoding="utf-8") == "# mine\n"
    forced = mailwarden("config", "init", "--out", str(path), "--force")
    assert forced.returncode == 0, forced.stderr
    assert load_settings(toml_path=path, env={}) == Settings()


def test_every_setting_is_in_the_file_and_described() -> None:
    document = tomllib.loads(config_toml())["mailwarden"]
    text = config_toml()
    for item in fields(Settings):
        # Keys that are not set by default are there, commented out with an example.
        assert item.name in document or f"# {item.name} = " in text, item.name
    assert set(document["retry"]) == {f.name for f in fields(RetryPolicy)}
    keys = {entry.key for entry in entries()}
    assert keys == set(DOCS), "settings_doc.DOCS describes a setting that is not there"
    assert all(DOCS[key].text.strip() for key in keys)


def test_docs_config_md_has_the_table_the_code_makes_and_every_variable() -> None:
    text = (ROOT / "docs" / "config.md").read_text(encoding="utf-8")
    shown = text.split("<!-- settings:begin -->\n", 1)[1].split("<!-- settings:end -->", 1)[0]
    assert shown == config_markdown(), (
        "docs/config.md: the settings table is out of date; replace it with the output of "
        "python -c 'from mailwarden.settings_doc import config_markdown; "
        "print(config_markdown())'")
    used = set()
    for path in (ROOT / "src" / "mailwarden").rglob("*.py"):
        used |= set(re.findall(r"MAILWARDEN_[A-Z_]+", path.read_text(encoding="utf-8")))
    assert used, "no environment variable found: the search is wrong"
    missing = sorted(name for name in used if f"`{name}`" not in text)
    assert not missing, f"docs/config.md does not describe {missing}"
