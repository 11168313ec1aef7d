"""InsurUp's policy and insurance-company shapes."""

from datetime import date
from typing import Annotated

from pydantic import BeforeValidator, Field

from app.insurup import terms
from app.insurup.models import Wire
from app.vocabulary import Currency


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


class PolicyWire(Wire):
    id: str
    insurance_company_id: int | None = Field(default=None, alias="insuranceCompanyId")
    policy_number: str | None = Field(default=None, alias="insuranceCompanyPolicyNumber")
    start_date: date | None = Field(default=None, alias="startDate")
    end_date: date | None = Field(default=None, alias="endDate")
    gross_premium: float | None = Field(default=None, alias="grossPremium")
    currency: Annotated[Currency | None, BeforeValidator(terms.currency)] = None
    # `ACTIVE`, `END_OF_LIFE`, `CANCELLED`... shown lower-cased, as the gateway's states are.
    state: Annotated[str | None, BeforeValidator(_lower)] = None
    insurer_customer_id: str | None = Field(default=None, alias="insurerCustomerId")


class InsuranceCompanyWire(Wire):
    id: int
    name: str
    logo: str | None = None
