"""InsurUp's wire shapes for sign-in, the customer and CRM cases, parsed leniently: unknown
fields are ignored, and a missing optional field never fails a parse."""

import base64
import binascii
from dataclasses import dataclass
from datetime import date

import orjson
from pydantic import BaseModel, ConfigDict, Field

from app.insurup import terms
from app.vocabulary import ConsentType, CustomerKind

# Access tokens live about ten minutes (InsurUp docs); used only when neither `expiresIn`
# nor the JWT `exp` tells us.
DEFAULT_ACCESS_SECONDS = 600


class Wire(BaseModel):
    # No NaN or Infinity: orjson refuses them, and so does a model read straight from bytes
    # (pydantic's JSON parser would take them), so an answer parses alike either way.
    model_config = ConfigDict(
        extra="ignore", populate_by_name=True, frozen=True, allow_inf_nan=False
    )


class TokenPair(Wire):
    access_token: str = Field(alias="accessToken", min_length=1)
    refresh_token: str | None = Field(default=None, alias="refreshToken")
    expires_in: int | None = Field(default=None, alias="expiresIn")
    customer_id: str | None = Field(default=None, alias="customerId")

    def access_expires_at(self, *, now: float) -> float:
        """When the access token lapses: `expiresIn`, else the JWT `exp`, else the default."""
        if self.expires_in is not None and self.expires_in > 0:
            return now + self.expires_in
        exp = jwt_expiry(self.access_token)
        return exp if exp is not None else now + DEFAULT_ACCESS_SECONDS


class MfaChallenge(Wire):
    token: str = Field(min_length=1)
    customer_id: str | None = Field(default=None, alias="customerId")


class PhoneWire(Wire):
    country_code: int | None = Field(default=None, alias="countryCode")
    number: str | int | None = None


class Customer(Wire):
    id: str
    kind: str | None = Field(default=None, alias="$type")
    type_: str | None = Field(default=None, alias="type")
    full_name: str | None = Field(default=None, alias="fullName")
    identity_number: str | int | None = Field(default=None, alias="identityNumber")
    tax_number: str | None = Field(default=None, alias="taxNumber")
    title: str | None = None
    birth_date: date | None = Field(default=None, alias="birthDate")
    primary_email: str | None = Field(default=None, alias="primaryEmail")
    primary_phone_number: PhoneWire | None = Field(default=None, alias="primaryPhoneNumber")

    @property
    def national_phone(self) -> str | None:
        """The mobile number without the country code, as InsurUp keeps it."""
        phone = self.primary_phone_number
        return str(phone.number) if phone and phone.number else None

    @property
    def customer_kind(self) -> str:
        # InsurUp's casing of the discriminator is not settled; accept `$type` or `type`.
        return (self.kind or self.type_ or "individual").lower()

    @property
    def display_name(self) -> str:
        return self.full_name or self.title or ""


class CaseItem(Wire):
    id: str | None = None
    status: str | None = None
    type: str | None = None
    product_branch: str | None = Field(default=None, alias="productBranch")

    @property
    def is_open_kasko_sale(self) -> bool:
        """Decided on the item itself: the query's filter and `totalCount` are not trusted."""
        return (
            self.type == terms.SALE_OPPORTUNITY
            and self.product_branch == terms.KASKO
            and self.status in terms.OPEN_CASE_STATUSES
        )


@dataclass(frozen=True, slots=True)
class LoginRequest:
    """What the gateway asks InsurUp's login-or-register with; built only from validated input."""

    kind: CustomerKind
    identity_number: str
    phone_national: str
    agent_id: str
    birth_date: date | None = None
    agent_branch_id: str | None = None
    consents: tuple[ConsentType, ...] = ()

    def to_wire(self) -> dict[str, object]:
        # `$type` first: InsurUp's .NET deserializer needs the discriminator first.
        body: dict[str, object] = {"$type": self.kind}
        if self.kind == "company":
            body["taxNumber"] = self.identity_number
        else:
            body["identityNumber"] = self.identity_number
        if self.birth_date is not None:
            body["birthDate"] = self.birth_date.isoformat()
        body["phoneNumber"] = {"countryCode": 90, "number": self.phone_national}
        body["agentId"] = self.agent_id
        if self.agent_branch_id:
            body["agentBranchId"] = self.agent_branch_id
        if self.consents:
            body["approvedConsentTypes"] = list(self.consents)
        return body


def jwt_expiry(token: str) -> float | None:
    """Read `exp` from a JWT without verifying it: we only need to know when to refresh."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = orjson.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        return None
    exp = payload.get("exp") if isinstance(payload, dict) else None
    return float(exp) if isinstance(exp, int | float) else None
