"""The quote view: every product state, robots, payment methods, unknown values, order."""

import logging
import random

import pytest
from pydantic import TypeAdapter

from app.insurup.proposals import ProposalWire
from app.quotes.normalize import QuoteNormalizer
from app.quotes.schemas import QuoteRead
from tests.fake_insurup import PROPOSAL_ID, product


def _quote(
    *products: dict[str, object],
    enabled: tuple[str, ...] = ("3d-secure", "insurance-company-redirect"),
    online: tuple[int, ...] = (),
) -> QuoteRead:
    wire = ProposalWire.model_validate(
        {"proposalId": PROPOSAL_ID, "state": "ACTIVE", "products": list(products)}
    )
    return QuoteNormalizer(enabled_methods=list(enabled), online_insurers=online).quote(wire)


@pytest.mark.parametrize(
    ("insurup_state", "state", "purchasable"),
    [
        ("WAITING", "waiting", False),
        ("ACTIVE", "active", True),
        ("FAILED", "failed", False),
        ("PURCHASING", "purchasing", False),
        ("PURCHASED", "purchased", False),
    ],
)
def test_every_product_state_maps(insurup_state: str, state: str, purchasable: bool) -> None:
    view = _quote(product("p1", state=insurup_state))
    [item] = view.products
    assert item.state == state
    assert item.purchasable is purchasable
    assert view.complete is (state != "waiting")


def test_robot_products_are_never_purchasable() -> None:
    [item] = _quote(product("r1", product_type="ROBOT")).products
    assert item.state == "active"
    assert item.purchasable is False


def test_a_product_without_async_payment_is_not_purchasable() -> None:
    [item] = _quote(product("s1", options=("SYNC_CREDIT_CARD", "SYNC_OPEN_ACCOUNT"))).products
    assert item.payment_methods == []
    assert item.purchasable is False


def test_payment_methods_map_and_respect_what_the_agency_enabled() -> None:
    options = ("ASYNC_INSURANCE_COMPANY_REDIRECT", "ASYNC_THIRD_PARTY_3D_SECURE", "ASYNC_3D_SECURE")
    [default] = _quote(product("m1", options=options)).products
    assert default.payment_methods == ["3d-secure", "insurance-company-redirect"]
    [with_third_party] = _quote(
        product("m1", options=options),
        enabled=("3d-secure", "third-party-3d-secure", "insurance-company-redirect"),
    ).products
    assert with_third_party.payment_methods == [
        "3d-secure",
        "third-party-3d-secure",
        "insurance-company-redirect",
    ]


def test_unknown_values_keep_working_and_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    odd = product("u1", options=("ASYNC_CRYPTO", "ASYNC_3D_SECURE"))
    odd["state"] = "ON_HOLD"
    odd["premiums"][0]["currency"] = "BITCOIN"
    odd["productType"] = "HYBRID_ROBOT"
    with caplog.at_level(logging.WARNING):
        view = _quote(odd, product("ok", state="ACTIVE"))
    by_id = {p.product_id: p for p in view.products}
    assert by_id["u1"].state == "failed"
    assert by_id["u1"].purchasable is False
    assert by_id["ok"].purchasable is True
    logged = {(getattr(r, "kind", None), getattr(r, "value", None)) for r in caplog.records}
    assert {
        ("product_state", "ON_HOLD"),
        ("payment_option", "ASYNC_CRYPTO"),
        ("product_type", "HYBRID_ROBOT"),
    } <= logged


def test_order_is_priced_by_lowest_premium_then_waiting_then_failed() -> None:
    view = _quote(
        product("failed", state="FAILED", error="Sigorta şirketi yanıt vermedi"),
        product("waiting", state="WAITING"),
        product("dear", premiums=(15000.0, 15500.0)),
        product("cheap", premiums=(9000.0, 8800.0)),
    )
    assert [p.product_id for p in view.products] == ["cheap", "dear", "waiting", "failed"]
    assert view.lowest_premium is not None
    assert view.lowest_premium.model_dump() == {"amount": 8800.0, "currency": "TRY"}
    assert view.products[0].lowest_gross_premium == 8800.0
    assert view.products[-1].error_message == "Sigorta şirketi yanıt vermedi"
    assert view.complete is False
    assert view.state == "active"


def test_premiums_are_in_try_without_commission() -> None:
    view = _quote(product("p1"))
    dumped = view.model_dump(mode="json", by_alias=True)
    assert dumped["products"][0]["premiums"][0] == {
        "installmentNumber": 1,
        "grossPremium": 9000.0,
        "netPremium": 8500.0,
        "currency": "TRY",
    }
    assert "commission" not in str(dumped).lower()
    assert dumped["products"][0]["insurer"] == {
        "id": 7,
        "name": "Anadolu Sigorta",
        "logoUrl": "https://cdn.example/7.svg",
    }


def test_an_empty_proposal_is_still_waiting_not_complete() -> None:
    view = _quote()
    assert view.products == []
    assert view.complete is False
    assert view.state == "waiting"


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        (product("p", state="PURCHASED"), "sold"),
        (product("p", state="PURCHASING"), "sold"),
        (product("p", state="FAILED", error="Servis hatası"), "failed"),
        (product("p", product_type="ROBOT"), "robot"),
        (product("p", state="WAITING"), "not_priced"),
        (product("p", premiums=()), "not_priced"),
        (product("p", options=("SYNC_CREDIT_CARD",)), "not_sold_online"),
        (product("p", insurer=(99, "Başka Sigorta")), "not_sold_online"),
        (product("p"), None),
    ],
)
def test_every_product_without_a_pay_button_says_why(
    item: dict[str, object], reason: str | None
) -> None:
    """Insurer 7 is the only one sold online here (BFF_ONLINE_INSURER_IDS); the others are
    shown but sold through the agency's staff."""
    [view] = _quote(item, online=(7,)).products
    assert view.not_purchasable_reason == reason
    assert view.purchasable is (reason is None)


def test_without_an_online_list_every_insurer_is_sold_online() -> None:
    [view] = _quote(product("p", insurer=(99, "Başka Sigorta"))).products
    assert view.purchasable


_OPTIONS = [
    "ASYNC_3D_SECURE",
    "ASYNC_THIRD_PARTY_3D_SECURE",
    "ASYNC_INSURANCE_COMPANY_REDIRECT",
    "SYNC_CREDIT_CARD",
]
_METHODS = ["3d-secure", "third-party-3d-secure", "insurance-company-redirect"]


def _random_product(rng: random.Random, index: int) -> dict[str, object]:
    """An InsurUp product with every field the quote shows varied, odd values included."""

    def maybe(value: object) -> object:
        return None if rng.random() < 0.2 else value

    def amount() -> object:
        return rng.choice([rng.randint(1, 90_000), round(rng.uniform(0.01, 90_000.0), 2), 1e-7])

    premiums = [
        {
            "installmentNumber": rng.choice([1, 2, 3, 6, 9, 12]),
            "netPremium": maybe(amount()),
            "grossPremium": maybe(amount()),
            "currency": rng.choice(["TURKISH_LIRA", "EURO", "UNITED_STATES_DOLLAR", None, "X"]),
        }
        for _ in range(rng.randint(0, 4))
    ]
    return {
        "id": f"p{index}-{rng.randint(0, 10**6)}",
        "insuranceCompanyId": maybe(rng.randint(1, 300)),
        "insuranceCompanyName": maybe(rng.choice(["Anadolu", "Türkiye Sigorta", 'A "B" \\ C'])),
        "insuranceCompanyLogo": maybe(f"https://cdn.example/{index}.svg"),
        "productName": maybe(rng.choice(["Kasko", "Genişletilmiş Kasko \u2028"])),
        "productType": rng.choice(["WEB_SERVICE", "ROBOT", "NEW_KIND", None]),
        "state": rng.choice(["WAITING", "ACTIVE", "FAILED", "PURCHASING", "PURCHASED", "?"]),
        "premiums": premiums,
        "supportedPaymentOptions": rng.sample(_OPTIONS, rng.randint(0, len(_OPTIONS))),
        "errorMessage": maybe("Sigorta şirketi yanıt vermedi"),
        "coverageGroupId": maybe("65f1c0ffee0ddba11ca5e0aa"),
        "coverageGroupName": maybe("Dar Kasko"),
    }


def test_the_hot_read_paths_encoding_is_the_response_models() -> None:
    """`quote_json` skips validating the quote again: on 500 random proposals its bytes are
    those of the validated response model as FastAPI encodes it."""
    rng = random.Random(20261201)
    encode = TypeAdapter(QuoteRead)
    for case in range(500):
        wire = ProposalWire.model_validate(
            {
                "proposalId": f"q{case}",
                "products": [_random_product(rng, i) for i in range(rng.randint(0, 12))],
            }
        )
        normalizer = QuoteNormalizer(
            enabled_methods=rng.sample(_METHODS, rng.randint(0, len(_METHODS))),
            online_insurers=rng.choice([(), (7, 8, 9), tuple(range(1, 150))]),
        )
        expected = encode.dump_json(normalizer.quote(wire), by_alias=True)
        assert normalizer.quote_json(wire) == expected, case
