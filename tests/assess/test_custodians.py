"""Custodians: files (YAML and CSV, bad rows named by line) and inference."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from mailwarden.assess import load_custodians
from mailwarden.errors import InputError
from mailwarden.model.findings import CustodianSource, ProblemKind, Status
from tests.assess.assess_factory import (
    HR,
    NOW,
    adding,
    finding,
    full_access,
    group,
    hardened,
    mailbox_of,
    person,
    run,
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_custodians(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "custodians.csv",
        "mailbox,custodian,team\n# comment\nHR@contoso.com,Bob@contoso.com,People\n\n",
    )
    loaded = load_custodians(path)
    entry = loaded.get(HR)
    assert entry is not None
    assert (entry.person, entry.team, entry.origin) == ("bob@contoso.com", "People", f"{path}:3")


@pytest.mark.parametrize(
    "text",
    [
        "custodians:\n  - mailbox: hr@contoso.com\n    custodian: bob@contoso.com\n"
        "    team: People\n",
        "- {mailbox: hr@contoso.com, custodian: bob@contoso.com, team: People}\n",
        "hr@contoso.com: {custodian: bob@contoso.com, team: People}\n",
    ],
)
def test_yaml_custodians_in_each_accepted_shape(tmp_path: Path, text: str) -> None:
    entry = load_custodians(write(tmp_path, "custodians.yaml", text)).get(HR)
    assert entry is not None and entry.person == "bob@contoso.com" and entry.team == "People"


def test_yaml_mapping_of_addresses(tmp_path: Path) -> None:
    entry = load_custodians(write(tmp_path, "c.yml", "hr@contoso.com: bob@contoso.com\n")).get(HR)
    assert entry is not None and entry.team is None


def test_bad_csv_rows_are_named_with_file_and_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "custodians.csv",
        "mailbox,custodian,team\nhr@contoso.com,bob@contoso.com,People\n"
        "not-an-address,bob@contoso.com,x\nhr@contoso.com,carol@contoso.com,x\n"
        "it@contoso.com,,x\n",
    )
    with pytest.raises(InputError) as caught:
        load_custodians(path)
    message = str(caught.value)
    assert f"{path}:3: mailbox 'not-an-address'" in message
    assert f"{path}:4: hr@contoso.com is already mapped at {path}:2" in message
    assert f"{path}:5: custodian (empty) is not an address" in message


def test_bad_yaml_rows_are_named_with_their_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "custodians.yaml",
        "custodians:\n  - mailbox: hr@contoso.com\n    custodian: bob@contoso.com\n"
        "  - mailbox: it@contoso.com\n    custodian: nobody\n",
    )
    with pytest.raises(InputError, match=rf"{path}:4: custodian 'nobody'"):
        load_custodians(path)
    broken = write(tmp_path, "broken.yaml", "custodians: [\n")
    with pytest.raises(InputError, match="not valid YAML"):
        load_custodians(broken)


def test_a_csv_without_the_right_header_and_unknown_formats_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="header must name"):
        load_custodians(write(tmp_path, "c.csv", "box,person\nhr@contoso.com,b@contoso.com\n"))
    with pytest.raises(InputError, match=r"\.yaml, \.yml or \.csv"):
        load_custodians(write(tmp_path, "c.txt", "x"))
    with pytest.raises(InputError, match="cannot read"):
        load_custodians(tmp_path / "absent.csv")


def test_a_file_custodian_passes_and_unknown_mailboxes_are_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "custodians.csv",
        "mailbox,custodian,team\nhr@contoso.com,alice@contoso.com,People\n"
        "gone@contoso.com,alice@contoso.com,x\n",
    )
    result = run(hardened(), custodians=load_custodians(path))
    got = finding(result, "no-custodian")
    assert got.status is Status.PASS and got.evidence["source"] == "file"
    reported = [p for p in result.problems if p.kind is ProblemKind.CUSTODIAN]
    assert [p.subject for p in reported] == ["gone@contoso.com"]
    assert "does not have" in reported[0].detail


def test_a_file_custodian_who_left_falls_back_to_inference_and_is_reported(
    tmp_path: Path,
) -> None:
    leaver = person("zoe", enabled=False)
    path = write(tmp_path, "c.csv", f"mailbox,custodian,team\n{HR},{leaver.upn},People\n")
    result = run(adding(hardened(), accounts=(leaver,)), custodians=load_custodians(path))
    got = finding(result, "no-custodian")
    assert got.status is Status.PASS and got.evidence["custodian"] == "alice@contoso.com"
    assert "is disabled" in got.evidence["note"]
    assert any("is disabled" in p.detail for p in result.problems)


def test_inference_prefers_seniority_then_recent_activity_then_upn() -> None:
    box = mailbox_of(hardened())
    director = person("dora", job_title="Director of People")
    recent = person("ian", job_title="Analyst", last_success=NOW - timedelta(days=1))
    older = person("hal", job_title="Analyst", last_success=NOW - timedelta(days=30))
    rows = tuple(full_access(box, p.upn) for p in (director, recent, older))
    base = adding(hardened(), accounts=(director, recent, older), mailbox_permissions=rows)
    result = run(base)
    custodian = next(a for a in result.assessments if a.upn == HR).custodian
    assert custodian is not None
    assert custodian.person == director.upn and custodian.source is CustodianSource.INFERRED

    # Among equals (no alice, no director): the most recently active, then the first UPN.
    def without_alice(*people: object) -> str | None:
        snapshot = adding(hardened(), accounts=people)  # type: ignore[arg-type]
        rows = tuple(p for p in snapshot.mailbox_permissions if "alice" not in p.user)
        grants = tuple(full_access(box, p.upn) for p in people)  # type: ignore[attr-defined]
        result = run(replace(snapshot, mailbox_permissions=rows + grants))
        chosen = next(a for a in result.assessments if a.upn == HR).custodian
        return chosen.person if chosen else None

    assert without_alice(older, recent) == recent.upn
    twin_b, twin_a = person("bert", job_title="Analyst"), person("anna", job_title="Analyst")
    assert without_alice(twin_b, twin_a) == twin_a.upn


def test_inference_skips_disabled_guests_and_unlicensed_and_group_grants_by_default() -> None:
    snapshot = hardened()
    box = mailbox_of(snapshot)
    team = person("tom")
    team_group = group("HR Team", team)
    only_group = adding(
        snapshot,
        accounts=(team, person("gus", guest=True)),
        groups=(team_group[0],),
        group_members=(team_group[1],),
    )
    rows = tuple(p for p in only_group.mailbox_permissions if "alice" not in p.user)
    only_group = replace(
        only_group,
        mailbox_permissions=(
            *rows,
            full_access(box, "HR Team"),
            full_access(box, "gus_partner.example#EXT#@contoso.com"),
        ),
    )
    assert finding(run(only_group), "no-custodian").status is Status.FAIL
    inferred = finding(run(only_group, infer_custodian_from_groups=True), "no-custodian")
    assert inferred.status is Status.PASS and inferred.evidence["custodian"] == team.upn
    assert "through a group" in inferred.evidence["reason"]
