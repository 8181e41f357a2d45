"""The example pipelines in docs/ci/ do what they say: their shell steps are run, in order,
as the CI service would run them, against a synthetic tenant.

Two steps are replaced, as the files' own comments document: "Install mailwarden" (the
package under test is installed already) and "Collect the tenant" (the live tenant), which
becomes the documented offline step `cp -R recorded/contoso tenant` over a tenant that
`mailwarden synth` wrote. Every other `run:` / `script:` step runs as written, with the
CI's variables and step outputs resolved; the steps that are the CI service's own (upload
SARIF, publish an artifact) are checked for the files they would take."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.synthetic import write_tenant

DOCS = Path(__file__).resolve().parents[2] / "docs" / "ci"
OFFLINE = "cp -R recorded/contoso tenant"
REPLACED = {"Install mailwarden": None, "Collect the tenant": OFFLINE}
BIN = str(Path(sys.executable).parent)


@pytest.fixture(scope="session")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("recorded") / "contoso"
    write_tenant(where, "small", seed=1)
    # Without logs/ the report assesses only the posture: what the gate reads, and faster.
    shutil.rmtree(where / "logs")
    return where


def _workspace(tmp_path: Path, recorded: Path) -> Path:
    shutil.copytree(recorded, tmp_path / "recorded" / "contoso")
    return tmp_path


def _bash(script: str, *, cwd: Path, env: Mapping[str, str]) -> int:
    # GitHub runs `run:` as `bash --noprofile --norc -eo pipefail {0}`; Azure's `script:`
    # runs under bash on Linux agents, which -e without pipefail matches.
    done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
                          cwd=cwd, env={**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}",
                                        "COLUMNS": "200", **env},
                          capture_output=True, text=True, timeout=120, check=False)
    print(done.stdout, done.stderr)
    return done.returncode


def _sarif(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    assert document["version"] == "2.1.0"
    assert document["runs"][0]["tool"]["driver"]["name"] == "mailwarden"
    return document


_EXPRESSION = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")


def _github_value(text: str, outputs: Mapping[str, Mapping[str, str]]) -> str:
    def resolve(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith(("vars.", "secrets.")):
            return ""  # the live tenant's settings: unset offline
        step = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", name)
        assert step is not None, f"the test does not resolve ${{{{ {name} }}}}"
        return outputs.get(step.group(1), {}).get(step.group(2), "")

    return _EXPRESSION.sub(resolve, str(text))


def test_github_actions_workflow_gates_and_uploads_sarif(tmp_path: Path, recorded: Path) -> None:
    text = (DOCS / "github-actions.yml").read_text(encoding="utf-8")
    assert f"run: {OFFLINE}" in text  # the documented offline step is the one run here
    workflow = yaml.safe_load(text)
    assert workflow["permissions"]["security-events"] == "write"
    job = workflow["jobs"]["assess"]
    work = _workspace(tmp_path, recorded)
    outputs: dict[str, dict[str, str]] = {}
    results: dict[str, int] = {}
    uploaded: dict[str, Any] = {}
    failed = False
    for step in job["steps"]:
        name = step.get("name", step.get("uses", ""))
        if failed and "always()" not in str(step.get("if", "")):
            continue
        if "uses" in step:
            if step["uses"].startswith("github/codeql-action/upload-sarif@"):
                assert step["with"]["category"] == "mailwarden"
                uploaded = _sarif(work / step["with"]["sarif_file"])
            elif step["uses"].startswith("actions/upload-artifact@"):
                assert (work / step["with"]["path"] / "report.html").is_file()
            continue
        script = REPLACED[name] if name in REPLACED else step["run"]
        if script is None:
            continue
        output_file = tmp_path / f"output-{len(results)}"
        output_file.write_text("")
        env = {key: _github_value(value, outputs)
               for key, value in {**job.get("env", {}), **step.get("env", {})}.items()}
        env |= {"GITHUB_OUTPUT": str(output_file), "RUNNER_TEMP": str(tmp_path)}
        results[name] = _bash(script, cwd=work, env=env)
        if "id" in step:
            outputs[step["id"]] = dict(line.split("=", 1) for line in
                                       output_file.read_text().splitlines() if "=" in line)
        failed = failed or results[name] != 0
    # The synthetic tenant has findings at and above high: the assessment says 1, the SARIF
    # is uploaded all the same, and the gate fails the run with the same code.
    assert outputs["assess"]["code"] == "1"
    assert results["Gate on the exit code"] == 1
    levels = {r["level"] for r in uploaded["runs"][0]["results"]}
    assert "error" in levels
    assert (work / "out" / "findings.json").is_file()


def test_github_actions_gate_passes_when_the_threshold_is_not_reached(tmp_path: Path) -> None:
    workflow = yaml.safe_load((DOCS / "github-actions.yml").read_text(encoding="utf-8"))
    gate = next(s for s in workflow["jobs"]["assess"]["steps"]
                if s.get("name") == "Gate on the exit code")
    for code, expected in (("0", 0), ("1", 1), ("4", 4), ("3", 3), ("", 70)):
        assert _bash(gate["run"], cwd=tmp_path, env={"CODE": code, "FAIL_ON": "high"}) \
            == expected


def _azure_env(step: Mapping[str, Any], variables: Mapping[str, str]) -> dict[str, str]:
    def resolve(value: object) -> str:
        return re.sub(r"\$\(([\w.]+)\)", lambda m: variables.get(m.group(1), ""), str(value))

    return {key: resolve(value) for key, value in step.get("env", {}).items()}


def test_azure_pipeline_gates_and_publishes_sarif(tmp_path: Path, recorded: Path) -> None:
    text = (DOCS / "azure-pipelines.yml").read_text(encoding="utf-8")
    assert f"script: {OFFLINE}" in text
    pipeline = yaml.safe_load(text)
    work = _workspace(tmp_path, recorded)
    # Pipeline variables reach scripts as environment variables; set them as Azure does.
    variables: dict[str, str] = {key: str(value) for key, value in pipeline["variables"].items()}
    results: dict[str, int] = {}
    published: dict[str, Path] = {}
    failed = False
    for step in pipeline["steps"]:
        name = step.get("displayName", step.get("task", ""))
        if failed and "succeededOrFailed()" not in str(step.get("condition", "")):
            continue
        if "publish" in step:
            published[step["artifact"]] = work / step["publish"]
            continue
        if "task" in step:
            continue  # UsePythonVersion, DownloadSecureFile: the live run's, not needed here
        script = REPLACED[name] if name in REPLACED else step["script"]
        if script is None:
            continue
        env = {**variables, **_azure_env(step, variables)}
        log = tmp_path / f"log-{len(results)}"
        results[name] = _bash(f"{{\n{script}\n}} | tee {log}", cwd=work, env=env)
        # ##vso[task.setvariable variable=NAME]VALUE sets a variable for the later steps.
        for found in re.finditer(r"##vso\[task\.setvariable variable=(\w+)\](.*)",
                                 log.read_text()):
            variables[found.group(1)] = found.group(2).strip()
        failed = failed or results[name] != 0
    assert variables["MAILWARDEN_EXIT"] == "1"
    assert results["Gate on the exit code"] == 1
    sarif_files = sorted(published["CodeAnalysisLogs"].glob("*.sarif"))
    assert [p.name for p in sarif_files] == ["mailwarden.sarif"]
    assert any(r["level"] == "error" for r in _sarif(sarif_files[0])["runs"][0]["results"])
    assert (published["mailwarden-report"] / "report.html").is_file()
