"""Purchase requests and payment views. Card data is validated here and never echoed."""

import datetime as dt
import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator
from stdnum import luhn

from app.http.schemas import ApiModel
from app.insurup.purchase import Card
from app.store.payments import Payment
from app.validation.dates import today_in_turkey
from app.vocabulary import PaymentMethod

_SEPARATORS = re.compile(r"[\s-]+")


class CardInput(ApiModel):
    # repr=False: a card must not reach a log line through an object's repr either.
    number: str = Field(repr=False, description="12-19 digits; spaces allowed")
    cvc: str = Field(repr=False, pattern=r"^\d{3,4}$")
    expiry_month: str = Field(description="1-12", examples=["12"])
    expiry_year: str = Field(description="YY or YYYY", examples=["2030"])
    holder_name: str = Field(min_length=2, max_length=64)

    @field_validator("number", mode="before")
    @classmethod
    def _number(cls, value: object) -> str:
        digits = _SEPARATORS.sub("", value) if isinstance(value, str) else ""
        if not (digits.isdigit() and 12 <= len(digits) <= 19 and luhn.is_valid(digits)):
            raise ValueError("is not a valid card number")
        return digits

    @field_validator("expiry_month", mode="before")
    @classmethod
    def _month(cls, value: object) -> str:
        text = str(value).strip() if isinstance(value, str | int) else ""
        if not text.isdigit() or not 1 <= int(text) <= 12:
            raise ValueError("must be a month from 1 to 12")
        return f"{int(text):02d}"

    @field_validator("expiry_year", mode="before")
    @classmethod
    def _year(cls, value: object) -> str:
        text = str(value).strip() if isinstance(value, str | int) else ""
        if not text.isdigit() or len(text) not in (2, 4):
            raise ValueError("must be a year as YY or YYYY")
        return f"20{text}" if len(text) == 2 else text

    @field_validator("holder_name")
    @classmethod
    def _holder(cls, value: str) -> str:
        name = " ".join(value.split())
        if any(ch.isdigit() for ch in name):
            raise ValueError("must be the name on the card")
        return name

    @model_validator(mode="after")
    def _not_expired(self) -> "CardInput":
        today = today_in_turkey()
        if (int(self.expiry_year), int(self.expiry_month)) < (today.year, today.month):
            raise ValueError("the card has expired")
        return self

    def card(self) -> Card:
        return Card(
            number=self.number,
            cvc=self.cvc,
            expiry_month=self.expiry_month,
            expiry_year=self.expiry_year,
            holder_name=self.holder_name,
        )


class PurchaseCreate(ApiModel):
    installment_number: int = Field(ge=1, le=24, examples=[1])
    method: PaymentMethod | None = Field(
        default=None, description="Default: the first the product supports"
    )
    card: CardInput | None = Field(
        default=None, description="Required for the 3-D Secure methods, refused otherwise"
    )
    information_form_accepted: bool = Field(
        default=False,
        description="The customer opened this product's pre-contract information form "
        "(`GET .../information-form`) and accepted it; required",
    )

    def fingerprint_view(self) -> dict[str, Any]:
        """What the idempotency record compares: the request without any card data."""
        return {"installmentNumber": self.installment_number, "method": self.method}


class Redirect(ApiModel):
    url: str
    method: Literal["GET", "POST"] = Field(
        description="`POST`: submit a form with `fields` to `url` (3-D Secure pages); "
        "`GET`: navigate to `url`"
    )
    fields: dict[str, str] = Field(default_factory=dict)


class PaymentStarted(ApiModel):
    payment_id: str
    status: str = "pending"
    redirect: Redirect = Field(description="How to send the customer's browser to pay")
    redirect_url: str | None = Field(
        default=None, description="The same `url` when a plain navigation (`GET`) is enough"
    )


# A payment as its customer sees it: the stored record less what is internal.
class PaymentRead(ApiModel):
    payment_id: str
    status: str = Field(examples=["pending", "succeeded", "failed"])
    quote_id: str
    product_id: str
    installment_number: int
    method: str
    policy_id: str | None
    failure_reason: str | None = Field(
        description="`declined` (no money taken), `insurer_failed`, `abandoned` (the bank page "
        "was left), `payment_not_completed`, `not_started`",
        examples=["declined"],
    )
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, payment: Payment) -> "PaymentRead":
        return cls.model_validate(payment.model_dump())


class CallbackResult(ApiModel):
    payment_id: str
    status: str
