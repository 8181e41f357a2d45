"""The emulated Exchange admin API: paging, $select, identities, $batch and its errors."""

from __future__ import annotations

from typing import Any

import httpx

from mailwarden.tenant.self_permission import self_permission_row
from tests.emulator.emulator_helpers import (
    EXO_SCOPE,
    app_for,
    bearer,
    client_for,
    run,
    small,
    tenant_id,
)

INVOKE = f"/adminapi/beta/{tenant_id()}/InvokeCommand"


def _body(cmdlet: str, **parameters: Any) -> dict[str, Any]:
    return {"CmdletInput": {"CmdletName": cmdlet, "Parameters": parameters}}


def _invoke(cmdlet: str, url: str = INVOKE, prefer: str | None = None,
            **parameters: Any) -> httpx.Response:
    async def main() -> httpx.Response:
        async with client_for(app_for()) as client:
            headers = await bearer(client, EXO_SCOPE)
            if prefer:
                headers["Prefer"] = prefer
            return await client.post(url, json=_body(cmdlet, **parameters), headers=headers)

    return run(main())


def _all_pages(cmdlet: str, url: str, prefer: str | None) -> tuple[list[dict[str, Any]], int]:
    async def main() -> tuple[list[dict[str, Any]], int]:
        async with client_for(app_for()) as client:
            headers = await bearer(client, EXO_SCOPE)
            if prefer:
                headers["Prefer"] = prefer
            rows: list[dict[str, Any]] = []
            pages = 0
            next_url: str | None = url
            while next_url:
                answer = await client.post(next_url, json=_body(cmdlet, ResultSize="Unlimited"),
                                           headers=headers)
                assert answer.status_code == 200, answer.text
                rows += answer.json()["value"]
                pages += 1
                next_url = answer.json().get("@odata.nextLink")
            return rows, pages

    return run(main())


def test_pages_follow_prefer_maxpagesize_and_keep_the_select() -> None:
    expected = small().recorded.data["exo/Get-Mailbox"]
    rows, pages = _all_pages("Get-Mailbox", INVOKE + "?$select=PrimarySmtpAddress,Guid",
                             "odata.maxpagesize=40")
    assert pages == -(-len(expected) // 40)
    assert [r["Guid"] for r in rows] == [m["Guid"] for m in expected]
    assert all(set(r) == {"PrimarySmtpAddress", "Guid"} for r in rows)


def test_without_prefer_the_page_is_100_and_prefer_is_capped_at_1000() -> None:
    default = _invoke("Get-Mailbox").json()
    assert len(default["value"]) == 100 and "@odata.nextLink" in default
    capped = _invoke("Get-Mailbox", prefer="odata.maxpagesize=5000")
    assert capped.headers["Preference-Applied"] == "odata.maxpagesize=1000"
    assert len(capped.json()["value"]) == len(small().recorded.data["exo/Get-Mailbox"])


def _shared_mailbox() -> dict[str, Any]:
    mailboxes = small().recorded.data["exo/Get-Mailbox"]
    permissions = small().recorded.data["exo/Get-MailboxPermission"]
    granted = {str(p["Identity"]).lower() for p in permissions if p["User"] != "NT AUTHORITY\\SELF"}
    return next(m for m in mailboxes if m["RecipientTypeDetails"] == "SharedMailbox"
                and str(m["Identity"]).lower() in granted)


def test_any_identity_form_selects_the_same_mailbox_rows() -> None:
    mailbox = _shared_mailbox()
    expected = [p for p in small().recorded.data["exo/Get-MailboxPermission"]
                if str(p["Identity"]).lower() == str(mailbox["Identity"]).lower()]
    assert expected
    for form in ("PrimarySmtpAddress", "Alias", "Guid", "ExternalDirectoryObjectId",
                 "DistinguishedName", "UserPrincipalName"):
        rows = _invoke("Get-MailboxPermission", Identity=mailbox[form]).json()["value"]
        assert rows == expected, form
    one = _invoke("Get-Mailbox", Identity=mailbox["PrimarySmtpAddress"].upper()).json()["value"]
    assert [m["Guid"] for m in one] == [mailbox["Guid"]]


def test_every_mailbox_answers_its_self_row() -> None:
    """Exchange lists NT AUTHORITY\\SELF (FullAccess, ReadPermission) on every mailbox
    (tenant.self_permission): a mailbox whose rows the tenant did not record, such as a
    licensed user's, answers that row, and a recorded one answers it once."""
    data = small().recorded.data
    recorded = {str(p["Identity"]).lower() for p in data["exo/Get-MailboxPermission"]}
    owned = next(m for m in data["exo/Get-Mailbox"] if m["RecipientTypeDetails"] == "UserMailbox"
                 and str(m["Identity"]).lower() not in recorded)
    rows = _invoke("Get-MailboxPermission", Identity=owned["PrimarySmtpAddress"]).json()["value"]
    assert rows == [self_permission_row(owned["Identity"])]
    shared = _shared_mailbox()
    rows = _invoke("Get-MailboxPermission", Identity=shared["PrimarySmtpAddress"]).json()["value"]
    assert sum(1 for r in rows if r["User"] == "NT AUTHORITY\\SELF") == 1


def test_an_unknown_identity_fails_as_exchange_fails_it() -> None:
    response = _invoke("Get-InboxRule", Mailbox="nobody@example.invalid")
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "NotFound"
    detail = error["details"][0]["message"]
    assert "ManagementObjectNotFoundException" in detail
    assert "object 'nobody@example.invalid' couldn't be found" in detail


def test_an_unknown_cmdlet_is_refused() -> None:
    response = _invoke("Get-Nonsense")
    assert response.status_code == 400
    assert "is not recognized as the name of a cmdlet" in response.json()["error"]["details"][0][
        "message"]


def test_single_object_cmdlets_answer_one_row() -> None:
    rows = _invoke("Get-OrganizationConfig").json()["value"]
    assert rows == [small().recorded.data["exo/Get-OrganizationConfig"]]


def test_exchange_refuses_a_graph_token() -> None:
    async def main() -> int:
        async with client_for(app_for()) as client:
            graph = await bearer(client, "https://graph.microsoft.com/.default")
            return (await client.post(INVOKE, json=_body("Get-Mailbox"), headers=graph)).status_code

    assert run(main()) == 401


def test_batch_answers_ten_invocations_each_on_its_own_and_refuses_eleven() -> None:
    mailbox = _shared_mailbox()
    url = f"https://emulator.test{INVOKE}?$select=Identity,User"
    sub = [{"id": str(i), "method": "POST", "url": url,
            "body": _body("Get-MailboxPermission", Identity=mailbox["PrimarySmtpAddress"]),
            "headers": {"Prefer": "odata.maxpagesize=1000"}} for i in range(1, 10)]
    sub.append({"id": "10", "method": "POST", "url": url,
                "body": _body("Get-InboxRule", Mailbox="nobody@example.invalid")})

    async def main(requests: list[dict[str, Any]]) -> httpx.Response:
        async with client_for(app_for()) as client:
            return await client.post(f"/adminapi/beta/{tenant_id()}/$batch",
                                     json={"requests": requests},
                                     headers=await bearer(client, EXO_SCOPE))

    answers = {r["id"]: r for r in run(main(sub)).json()["responses"]}
    assert answers["1"]["status"] == 200
    assert all(set(row) <= {"Identity", "User"} for row in answers["1"]["body"]["value"])
    assert answers["10"]["status"] == 404
    assert run(main([*sub, dict(sub[0], id="11")])).status_code == 400
