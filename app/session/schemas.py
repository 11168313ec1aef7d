"""What the frontend sends to sign in and what it sees of its session and profile."""

from datetime import date, datetime
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from app.http.schemas import ApiModel
from app.insurup.models import Customer
from app.validation import (
    BirthDate,
    TrMobile,
    mask_identity,
    mask_phone,
    normalize_foreign_id,
    normalize_tckn,
    normalize_vkn,
    validate_birth_date,
)
from app.vocabulary import ConsentType, CustomerKind

_IDENTITY_RULES = {
    "individual": normalize_tckn,
    "company": normalize_vkn,
    "foreign": normalize_foreign_id,
}


class LoginCreate(ApiModel):
    customer_type: CustomerKind = Field(
        description="`individual` (TCKN), `company` (VKN) or `foreign` (foreign id / passport)"
    )
    identity_number: str = Field(
        description="TCKN (11 digits), VKN (10 digits) or a foreign id (5-20 letters/digits)",
        examples=["11111111110"],
    )
    birth_date: BirthDate | None = Field(
        default=None,
        validate_default=True,
        description="YYYY-MM-DD; required for individuals, not sent for companies",
        examples=["1990-01-01"],
    )
    phone_number: TrMobile = Field(
        description="A Turkish mobile number in any common form", examples=["+905321234567"]
    )
    consents: list[ConsentType] = Field(
        min_length=1,
        max_length=2,
        description="What the customer agreed to: `KVKK` (required, after reading the notice "
        "from `GET /api/v1/consents`) and optionally `ETK` (commercial messages)",
        examples=[["KVKK"]],
    )

    @field_validator("consents")
    @classmethod
    def _kvkk_given(cls, consents: list[ConsentType]) -> list[ConsentType]:
        if "KVKK" not in consents:
            raise ValueError("must include KVKK: personal data is processed only with consent")
        return list(dict.fromkeys(consents))

    @field_validator("identity_number", mode="before")
    @classmethod
    def _identity(cls, value: object, info: ValidationInfo) -> str:
        rule = _IDENTITY_RULES.get(str(info.data.get("customer_type", "individual")))
        if rule is None:  # customerType itself failed; it reports its own error
            return str(value)
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise ValueError("must be a string of digits")
        return rule(value)

    @field_validator("birth_date")
    @classmethod
    def _birth_date_rule(cls, value: date | None, info: ValidationInfo) -> date | None:
        kind = info.data.get("customer_type")
        if kind == "individual" and value is None:
            raise ValueError("is required for individual customers")
        if kind == "company" and value is not None:
            raise ValueError("is not used for companies; leave it out")
        return None if value is None else validate_birth_date(value)


class ConsentRead(ApiModel):
    type: ConsentType
    required: bool
    notice_url: str | None = Field(description="The text the customer reads before agreeing")


class MfaVerify(ApiModel):
    code: str = Field(
        pattern=r"^\d{4,8}$", description="The code from the SMS", examples=["123456"]
    )


class LoginPending(ApiModel):
    status: Literal["mfa_required"] = "mfa_required"
    session_token: str | None = Field(
        default=None,
        description="Only for `X-Session-Transport: bearer` sign-ins: good for the SMS-code "
        "step only; its answer carries the signed-in session's token",
    )


class SessionRead(ApiModel):
    status: Literal["authenticated"] = "authenticated"
    customer_id: str
    customer_name: str | None = Field(description="Short form for greeting, e.g. `Ada Y.`")
    case_id: str | None = Field(
        description="The CRM sale opportunity; null until it is in place (retried on each call)"
    )
    expires_at: datetime = Field(description="When the session ends unless used again")
    session_token: str | None = Field(
        default=None,
        description="Only for `X-Session-Transport: bearer`, in the sign-in and SMS-code "
        "answers: the session's token from now on (the SMS step issues a new one)",
    )


class SessionPending(ApiModel):
    status: Literal["mfa_required"] = "mfa_required"


class CustomerRead(ApiModel):
    customer_id: str
    customer_type: str
    full_name: str | None
    identity_number_masked: str | None = Field(description="Only the last two characters shown")
    birth_date: date | None
    email: str | None
    phone_number_masked: str | None

    @classmethod
    def of(cls, customer: Customer) -> "CustomerRead":
        identity = customer.tax_number or customer.identity_number
        number = customer.national_phone
        return cls(
            customer_id=customer.id,
            customer_type=customer.customer_kind,
            full_name=customer.display_name or None,
            identity_number_masked=mask_identity(str(identity)) if identity else None,
            birth_date=customer.birth_date,
            email=customer.primary_email,
            phone_number_masked=mask_phone(f"90{number}") if number else None,
        )
