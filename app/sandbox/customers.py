"""`GET /api/customers/me` (reference section 2.1)."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from .auth import authenticate
from .config import Operation
from .enums import CustomerKind
from .faults import inject_faults
from .state import Customer, SandboxState, iso_datetime

SANDBOX_USER = {"id": "00000000-0000-0000-0000-000000000001", "name": "InsurUp Sandbox"}


def customer_json(state: SandboxState, customer: Customer) -> dict[str, object]:
    """`GetCustomerResult`; `$type` first and lowercase, like the login bodies."""
    body: dict[str, object] = {"$type": customer.kind.value, "id": customer.id}
    if customer.kind is CustomerKind.COMPANY:
        body |= {"title": customer.title, "taxNumber": customer.tax_number}
    else:
        body |= {
            "identityNumber": customer.identity_number,
            "fullName": customer.full_name,
            "birthDate": customer.birth_date,
            "gender": "UNKNOWN",
            "maritalStatus": "UNKNOWN",
            "educationStatus": "UNKNOWN",
            "nationality": "TURK" if customer.kind is CustomerKind.INDIVIDUAL else "OTHER",
            "job": "UNKNOWN",
        }
    body |= {
        "primaryEmail": None,
        "primaryPhoneNumber": customer.phone.to_json(),
        "city": None,
        "district": None,
        "createdAt": iso_datetime(customer.created_at),
        "createdBy": SANDBOX_USER,
        "representedBy": None,
        "creationChannel": customer.creation_channel.value,
        "agentBranchId": customer.agent_branch_id,
        "consents": [{"consentType": c.value, "isActive": True} for c in customer.consents],
        "vehicleCount": len(state.vehicles_of(customer.id)),
        "propertyCount": 0,
        "proposalCount": len(state.proposals_of(customer.id)),
        "policyCount": len(state.policies_of(customer.id)),
        "caseCount": len(state.cases_of(customer.id)),
        "emailCount": 0,
        "phoneCount": 1,
    }
    return body


def build_customers_router(state: SandboxState) -> APIRouter:
    router = APIRouter(tags=["customers"])

    @router.get("/customers/me")
    async def get_me(request: Request) -> JSONResponse:
        await inject_faults(state, Operation.CUSTOMER_ME)
        customer = authenticate(state, request)
        return JSONResponse(customer_json(state, customer))

    return router
