"""Policy routes: summary, the PDF streamed through, and e-mailing it."""

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Response, status
from fastapi.responses import StreamingResponse

from app.http.auth import SignedIn, browser_guard
from app.http.responses import UPSTREAM, pdf_stream, problems
from app.policies.deps import PoliciesDep
from app.policies.schemas import DocumentSend, PolicyRead

router = APIRouter(prefix="/api/v1", tags=["policies"], dependencies=[Depends(browser_guard)])

PolicyId = Annotated[str, Path(alias="policyId", pattern=r"^[A-Za-z0-9-]{1,64}$")]
_COMMON = (401, 403, 404, *UPSTREAM)


@router.get("/policies/{policyId}", response_model=PolicyRead, responses=problems(*_COMMON))
async def read_policy(policy_id: PolicyId, record: SignedIn, policies: PoliciesDep) -> PolicyRead:
    """The policy's summary."""
    return await policies.read(record, policy_id)


@router.get(
    "/policies/{policyId}/document",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/pdf": {}}, "description": "The policy PDF"},
        **problems(*_COMMON),
    },
)
async def policy_document(
    policy_id: PolicyId, record: SignedIn, policies: PoliciesDep
) -> StreamingResponse:
    """The policy PDF, streamed from InsurUp as it arrives."""
    filename, download = await policies.document(record, policy_id)
    return pdf_stream(download.chunks(), filename, disposition="attachment")


@router.post(
    "/policies/{policyId}/document/send",
    status_code=status.HTTP_202_ACCEPTED,
    response_class=Response,
    responses={202: {"description": "InsurUp e-mails the policy"}, **problems(422, *_COMMON)},
)
async def send_policy_document(
    policy_id: PolicyId,
    record: SignedIn,
    policies: PoliciesDep,
    body: Annotated[DocumentSend | None, Body()] = None,
) -> Response:
    """E-mail the policy PDF to the customer."""
    await policies.send(record, policy_id, body.email if body else None)
    return Response(status_code=status.HTTP_202_ACCEPTED)
