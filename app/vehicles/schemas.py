"""Vehicles as the frontend sees them: plates and serials in their canonical form."""

from datetime import date

from pydantic import Field, field_validator

from app.http.schemas import ApiModel
from app.insurup.vehicles import check_utilization
from app.validation import PlateText, SerialText
from app.validation.dates import today_in_turkey
from app.vocabulary import FuelType


class VehicleLookup(ApiModel):
    plate: PlateText = Field(description="Turkish plate in any spelling", examples=["34 ABC 123"])
    document_serial: SerialText = Field(
        description='Registration serial: "AB123456", "AB 123456" or {"code", "number"}',
        examples=["AB123456"],
    )


class VehicleCreate(VehicleLookup):
    brand_reference: str | None = Field(default=None, max_length=64)
    model_type_reference: str | None = Field(default=None, max_length=64)
    model_year: int | None = Field(default=None, ge=1950)
    utilization_style: str = Field(default="PRIVATE_CAR", examples=["PRIVATE_CAR"])
    fuel_type: FuelType | None = None

    _utilization = field_validator("utilization_style")(check_utilization)

    @field_validator("model_year")
    @classmethod
    def _not_future(cls, year: int | None) -> int | None:
        # Next year's models are sold from autumn on; anything later is a typo.
        if year is not None and year > today_in_turkey().year + 1:
            raise ValueError("cannot be later than next year")
        return year


class Reference(ApiModel):
    reference: str
    name: str


class VehicleFacts(ApiModel):
    plate: str | None = Field(examples=["34ABC123"])
    document_serial: str | None = Field(examples=["AB123456"])
    brand: Reference | None
    model: Reference | None
    model_year: int | None
    fuel_type: str | None
    utilization_style: str | None
    registration_date: date | None = None


class VehicleRead(VehicleFacts):
    id: str
