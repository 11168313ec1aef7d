"""The kasko `snapshot` of proposals and policies (reference 5.2, 8.1): customer and vehicle
data frozen at proposal creation. Note the wrapper objects (`engine {number}`, ...)."""

from typing import Any

from .enums import CustomerKind
from .records import Vehicle
from .state import Customer


def vehicle_snapshot(vehicle: Vehicle) -> dict[str, Any]:
    def wrap(value: object) -> dict[str, object] | None:
        return None if value is None else {"value": value}

    return {
        "id": vehicle.id,
        "plate": vehicle.plate_json(),
        "model": vehicle.model_json(),
        "utilizationStyle": vehicle.utilization_style.value,
        "fuel": vehicle.fuel,
        "engine": None if vehicle.engine is None else {"number": vehicle.engine},
        "chassis": None if vehicle.chassis is None else {"number": vehicle.chassis},
        "registrationDate": wrap(vehicle.registration_date),
        "firstRegistrationDate": wrap(vehicle.registration_date),
        "seatNumber": wrap(vehicle.seat_number),
        "accessories": list(vehicle.accessories),
        "documentSerial": vehicle.document_serial,
        "oldPolicy": vehicle.kasko_old_policy,
        "lossPayeeClause": vehicle.loss_payee_clause,
        "hasPlate": vehicle.has_plate,
        "isDisabledVehicle": False,
    }


def customer_snapshot(customer: Customer) -> dict[str, Any]:
    """`$type` first and lowercase, as in `customers/me` (reference 12.3 is unsure)."""
    body: dict[str, Any] = {"$type": customer.kind.value, "id": customer.id}
    if customer.kind is CustomerKind.COMPANY:
        body |= {"name": customer.title, "title": customer.title, "taxNumber": customer.tax_number}
    else:
        body |= {
            "name": customer.full_name,
            "identityNumber": customer.identity_number,
            "birthDate": customer.birth_date,
            "fullName": customer.full_name,
            "job": "UNKNOWN",
            "gender": "UNKNOWN",
        }
    body |= {
        "city": None,
        "district": None,
        "email": None,
        "phoneNumber": customer.phone.to_json(),
    }
    return body


def kasko_snapshot(
    vehicle: Vehicle, insurer_customer: Customer, insured_customer: Customer
) -> dict[str, Any]:
    return {
        "productBranch": "KASKO",
        "vehicle": vehicle_snapshot(vehicle),
        "insurerCustomer": customer_snapshot(insurer_customer),
        "insuredCustomer": customer_snapshot(insured_customer),
        "isInsuredCustomerSameAsInsurerCustomer": insurer_customer.id == insured_customer.id,
    }
