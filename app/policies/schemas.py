"""Policies as the frontend sees them."""

from datetime import date

from pydantic import EmailStr, Field

from app.http.schemas import ApiModel, Insurer


class PolicyRead(ApiModel):
    policy_id: str
    policy_number: str | None
    insurer: Insurer
    start_date: date | None
    end_date: date | None
    gross_premium: float | None
    currency: str | None
    state: str | None = Field(examples=["active", "end_of_life", "cancelled"])


class DocumentSend(ApiModel):
    email: EmailStr | None = Field(
        default=None, description="Default: the e-mail address InsurUp has for the customer"
    )
