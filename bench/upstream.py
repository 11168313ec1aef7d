"""A minimal InsurUp stand-in for benchmarks: a realistic proposal, fixed, with keep-alive."""

import sys

import orjson
from aiohttp import web


def _product(index: int, state: str, kind: str) -> dict[str, object]:
    premium = 9000.0 + index * 731.5
    return {
        "id": f"6911d24a134c60468e9418{index:02d}",
        "insuranceCompanyId": 7 + index,
        "insuranceCompanyName": f"Sigorta {index}",
        "insuranceCompanyLogo": f"https://cdn.example/{index}.svg",
        "productId": 2200 + index,
        "productName": "Kasko",
        "productType": kind,
        "state": state,
        "premiums": [
            {
                "installmentNumber": n,
                "netPremium": premium * (1 + n / 100) - 500,
                "grossPremium": premium * (1 + n / 100),
                "commission": 1200.0,
                "exchangeRate": 1,
                "currency": "TURKISH_LIRA",
                "insuranceCompanyProposalNumber": f"P-{index}-{n}",
            }
            for n in (1, 3, 6)
        ]
        if state == "ACTIVE"
        else [],
        "supportedPaymentOptions": ["ASYNC_3D_SECURE", "ASYNC_INSURANCE_COMPANY_REDIRECT"],
        "policyId": None,
        "errorMessage": "Zaman aşımı" if state == "FAILED" else None,
        "needsInvestigationByCompany": False,
        "hasVocationalDiscount": False,
        "hasUndamagedDiscount": True,
        "coverageGroupId": "65f1c0ffee0ddba11ca5e0aa",
        "coverageGroupName": "Genişletilmiş Kasko",
    }


# Five priced web-service products, a priced robot, a robot still waiting, a failure.
MIX = [("ACTIVE", "WEB_SERVICE")] * 5 + [
    ("ACTIVE", "ROBOT"),
    ("WAITING", "ROBOT"),
    ("FAILED", "WEB_SERVICE"),
]
PROPOSAL = orjson.dumps(
    {
        "proposalId": "6911d24a134c60468e941880",
        "productBranch": "KASKO",
        "state": "ACTIVE",
        "channel": "WEBSITE",
        "products": [_product(i, s, k) for i, (s, k) in enumerate(MIX)],
    }
)  # fmt: skip
BODY = (
    b'{"id":"8f89a1b6-5d1c-4c6e-9a55-0c3d2b1a0f11",'
    b'"fullName":"Ada Yilmaz","birthDate":"1990-01-01"}'
)


async def proposal(_: web.Request) -> web.Response:
    return web.Response(body=PROPOSAL, content_type="application/json")


async def anything(_: web.Request) -> web.Response:
    return web.Response(body=BODY, content_type="application/json")


def main() -> None:
    app = web.Application()
    app.router.add_get("/api/proposals/{proposal_id}", proposal)
    app.router.add_route("*", "/{tail:.*}", anything)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)


if __name__ == "__main__":
    main()
