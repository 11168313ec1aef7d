"""Policies, their documents, and the hand-written PDF."""

import re
from typing import Any

import pytest

from app.sandbox.pdf import render_pdf

from .conftest import ME, NO_CASES_TCKN, Sandbox, SandboxFactory, assert_problem
from .flows import Shopper, pick, product_in, shopper


async def bought_policy(sandbox: Sandbox, me: Shopper, **proposal: Any) -> dict[str, Any]:
    """Buy the first 3-D Secure product (6 installments); the policy as GET returns it."""
    priced = await me.priced_proposal(**proposal)
    product = pick(priced, option="ASYNC_3D_SECURE")
    started = await me.purchase(priced, product, installmentNumber=6)
    await sandbox.client.post(f"{started.json()['redirectUrl']}/approve")
    policy_id = product_in(await me.proposal(priced["proposalId"]), product["id"])["policyId"]
    response = await me.get(f"/api/policies/{policy_id}")
    assert response.status_code == 200, response.text
    policy: dict[str, Any] = response.json()
    assert policy["grossPremium"] == product["premiums"][2]["grossPremium"]
    assert policy["netPremium"] == product["premiums"][2]["netPremium"]
    return policy


def check_pdf(content: bytes) -> None:
    """Header, trailer, and every xref offset pointing at its `N 0 obj`."""
    assert content.startswith(b"%PDF-1.4")
    assert content.rstrip().endswith(b"%%EOF")
    startxref = int(re.search(rb"startxref\s+(\d+)\s+%%EOF\s*$", content).group(1))  # type: ignore[union-attr]
    assert content[startxref:].startswith(b"xref")
    header = re.match(rb"xref\s+0 (\d+)\s+", content[startxref:])
    assert header is not None
    count = int(header.group(1))
    entries = content[startxref + header.end() :].split(b"\n")[:count]
    assert entries[0] == b"0000000000 65535 f "
    for number, entry in enumerate(entries[1:], start=1):
        assert len(entry) == 19  # 20 bytes with the newline
        offset = int(entry[:10])
        assert entry.endswith(b" 00000 n ")
        assert content[offset:].startswith(f"{number} 0 obj".encode())
    assert re.search(rb"/Size %d\b" % count, content)


async def test_policy_has_the_documented_shape(sandbox: Sandbox) -> None:
    me = await shopper(sandbox)

    policy = await bought_policy(sandbox, me, policyStartDate="2026-06-10")

    assert re.fullmatch(r"[0-9a-f]{24}", policy["id"])
    assert re.fullmatch(r"KSK-2026-\d{6}", policy["insuranceCompanyPolicyNumber"])
    assert policy["insurerCustomerId"] == policy["insuredCustomerId"] == me.customer_id
    assert policy["productBranch"] == "KASKO"
    assert policy["installmentNumber"] == 6
    assert policy["currency"] == "TURKISH_LIRA"
    assert policy["state"] == "ACTIVE"
    assert policy["startDate"] == "2026-06-10"
    assert policy["endDate"] == "2027-06-10"
    assert policy["snapshot"]["productBranch"] == "KASKO"
    assert policy["snapshot"]["vehicle"]["plate"] == {"city": 34, "code": "ABC123"}
    assert policy["coverage"]["$type"] == "kasko"
    assert (await me.get(ME)).json()["policyCount"] == 1


async def test_start_date_defaults_to_today(sandbox: Sandbox) -> None:
    me = await shopper(sandbox)

    policy = await bought_policy(sandbox, me)

    assert policy["startDate"] == "2026-05-28"
    assert policy["endDate"] == "2027-05-28"


async def test_document_url_serves_a_valid_pdf(sandbox: Sandbox) -> None:
    me = await shopper(sandbox)
    policy = await bought_policy(sandbox, me)

    document = await me.get(f"/api/policies/{policy['id']}/document")

    assert document.headers["content-type"].startswith("application/json")
    url = document.json()["url"]
    assert url == f"http://insurup.sandbox/sandbox/documents/{policy['id']}.pdf"
    pdf = await sandbox.client.get(url)
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    check_pdf(pdf.content)
    assert policy["insuranceCompanyPolicyNumber"].encode() in pdf.content
    assert sandbox.state.document_downloads[f"{policy['id']}.pdf"] == 1


async def test_document_inline_knob_answers_the_pdf_itself(make_sandbox: SandboxFactory) -> None:
    sandbox = await make_sandbox(document_inline=True)
    me = await shopper(sandbox)
    policy = await bought_policy(sandbox, me)

    document = await me.get(f"/api/policies/{policy['id']}/document")

    assert document.status_code == 200
    assert document.headers["content-type"] == "application/pdf"
    check_pdf(document.content)


@pytest.mark.parametrize(
    "communication",
    [
        {"type": "email", "email": "ada@example.com"},
        {"type": "sms", "phoneNumber": {"countryCode": 90, "number": "5321234567"}},
        {"$type": "email", "email": "ada@example.com"},
    ],
)
async def test_document_send(sandbox: Sandbox, communication: dict[str, Any]) -> None:
    me = await shopper(sandbox)
    policy = await bought_policy(sandbox, me)

    response = await me.post(
        f"/api/policies/{policy['id']}/document/send",
        {"policyId": policy["id"], "customerId": me.customer_id, "communication": communication},
    )

    assert response.status_code == 204
    assert sandbox.state.document_sends[policy["id"]] == 1
    channel = communication.get("type") or communication["$type"]
    assert sandbox.state.document_send_channels[channel] == 1


@pytest.mark.parametrize(
    ("communication", "prop"),
    [
        ({"type": "email", "email": "not-an-address"}, "communication.email"),
        ({"type": "sms", "phoneNumber": "+905321234567"}, "communication.phoneNumber"),
        ({"type": "email"}, "communication.email"),
        ({"type": "fax", "email": "ada@example.com"}, "communication.type"),
    ],
)
async def test_document_send_validates_the_communication(
    sandbox: Sandbox, communication: dict[str, Any], prop: str
) -> None:
    me = await shopper(sandbox)
    policy = await bought_policy(sandbox, me)

    response = await me.post(
        f"/api/policies/{policy['id']}/document/send",
        {"policyId": policy["id"], "customerId": me.customer_id, "communication": communication},
    )

    problem = assert_problem(response, 422, "input-validation")
    assert prop in {i["propertyName"] for i in problem["validationErrors"]}
    assert sandbox.state.document_sends[policy["id"]] == 0


async def test_a_customer_cannot_read_another_customers_policy(sandbox: Sandbox) -> None:
    me = await shopper(sandbox)
    emre = await shopper(sandbox, NO_CASES_TCKN)
    policy = await bought_policy(sandbox, me)

    read = await emre.get(f"/api/policies/{policy['id']}")
    document = await emre.get(f"/policies/{policy['id']}/document")
    send = await emre.post(
        f"/api/policies/{policy['id']}/document/send",
        {
            "policyId": policy["id"],
            "customerId": emre.customer_id,
            "communication": {"type": "email", "email": "x@example.com"},
        },
    )
    unknown = await me.get("/api/policies/0123456789abcdef01234567")
    anonymous = await sandbox.client.get(f"/api/policies/{policy['id']}")

    assert_problem(read, 403, "access-denied")
    assert_problem(document, 403, "access-denied")
    assert_problem(send, 403, "access-denied")
    assert_problem(unknown, 404, "resource-not-found")
    assert_problem(anonymous, 401, "unauthorized")


async def test_fault_knob_on_policy_document(sandbox: Sandbox) -> None:
    me = await shopper(sandbox)
    policy = await bought_policy(sandbox, me)
    sandbox.state.faults.fail_next["policy_document"] = 1
    sandbox.state.faults.fail_next["document_download"] = 1

    faulted = await me.get(f"/api/policies/{policy['id']}/document")
    url = (await me.get(f"/api/policies/{policy['id']}/document")).json()["url"]
    download_faulted = await sandbox.client.get(url)
    download = await sandbox.client.get(url)

    assert_problem(faulted, 503, "upstream-service")
    assert_problem(download_faulted, 503, "upstream-service")
    assert download.status_code == 200


def test_pdf_writer_escapes_text_and_keeps_offsets_right() -> None:
    content = render_pdf("Poliçe (örnek)", ["back\\slash", "Şişli İstanbul ğ", "a) b( c"])

    check_pdf(content)
    assert b"(Poli\xe7e \\(\xf6rnek\\))" in content
    assert b"(Sisli Istanbul g)" in content
    assert b"(back\\\\slash)" in content
    length = int(re.search(rb"/Length (\d+)", content).group(1))  # type: ignore[union-attr]
    stream = content.split(b"stream\n", 1)[1]
    assert stream[length:].startswith(b"\nendstream")
