"""Files behind the URLs the API hands out (no token needed, like pre-signed links):

- `GET /sandbox/documents/{policyId}.pdf`: the policy PDF;
- `GET /sandbox/documents/information-forms/{proposalProductId}.pdf`: the pre-contract
  information form;
- `GET /sandbox/logos/{slug}.svg`: insurer logos (tiny self-made SVGs).
"""

from html import escape
from typing import Any

from fastapi import APIRouter, Response

from .catalogue import insurer_by_slug
from .config import Operation
from .faults import inject_faults
from .lifecycle import settle
from .pdf import render_pdf
from .pricing import turkish_amount
from .problems import ProblemError
from .records import Policy, ProposalProduct
from .state import SandboxState


def _plate_and_car(snapshot: dict[str, Any]) -> tuple[str, str]:
    vehicle = snapshot.get("vehicle")
    if not isinstance(vehicle, dict):
        return "-", "-"
    plate = vehicle.get("plate") or {}
    plate_text = f"{plate.get('city', 0):02d} {plate.get('code') or ''}".strip()
    model = vehicle.get("model") or {}
    brand = (model.get("brand") or {}).get("text", "")
    kind = (model.get("type") or {}).get("text", "")
    car = " ".join(str(part) for part in (brand, kind, model.get("year") or "") if part)
    return plate_text, car or "-"


def policy_pdf(state: SandboxState, policy: Policy) -> bytes:
    customer = state.customers.get(policy.customer_id)
    holder = "-" if customer is None else customer.full_name or customer.title or "-"
    plate, car = _plate_and_car(policy.snapshot)
    return render_pdf(
        f"Kasko Poliçesi {policy.number}",
        [
            f"Poliçe numarası: {policy.number}",
            f"Sigorta şirketi: {policy.insurer.name}",
            f"Ürün: {policy.insurer.product_name}",
            f"Sigorta ettiren: {holder}",
            f"Plaka: {plate}",
            f"Araç: {car}",
            f"Başlangıç: {policy.start_date}   Bitiş: {policy.end_date}",
            f"Brüt prim: {turkish_amount(policy.premium.gross_premium)} "
            f"({policy.installment_number} taksit)",
            "InsurUp sandbox: bu belge gerçek bir poliçe değildir.",
        ],
    )


def information_form_pdf(product: ProposalProduct) -> bytes:
    lines = [
        f"Sigorta şirketi: {product.insurer.name}",
        f"Ürün: {product.insurer.product_name}",
        f"Teminat grubu: {product.coverage_group_name or '-'}",
    ]
    lines += [
        f"{p.installment_number} taksit: {turkish_amount(p.gross_premium)}"
        for p in product.premiums
    ]
    lines.append("InsurUp sandbox: bu belge gerçek bir bilgilendirme formu değildir.")
    return render_pdf("Ön Bilgilendirme Formu", lines)


def logo_svg(name: str, color: str) -> str:
    initials = "".join(word[0] for word in name.split()[:2]).upper()
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40" viewBox="0 0 120 40">'
        f'<rect width="120" height="40" rx="6" fill="{escape(color)}"/>'
        '<text x="60" y="26" font-family="sans-serif" font-size="16" fill="#fff" '
        f'text-anchor="middle">{escape(initials)}</text></svg>'
    )


def _pdf_response(content: bytes, filename: str) -> Response:
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


def build_documents_router(state: SandboxState) -> APIRouter:
    router = APIRouter(tags=["sandbox"], include_in_schema=False)

    @router.get("/sandbox/documents/{policy_id}.pdf")
    async def policy_document(policy_id: str) -> Response:
        await inject_faults(state, Operation.DOCUMENT_DOWNLOAD)
        with state.lock:
            settle(state)
            policy = state.policies.get(policy_id.lower())
            if policy is None:
                raise ProblemError.not_found("No such document.", codes=["DOCUMENT_NOT_FOUND"])
            state.document_downloads[f"{policy.id}.pdf"] += 1
            return _pdf_response(policy_pdf(state, policy), f"{policy.number}.pdf")

    @router.get("/sandbox/documents/information-forms/{product_id}.pdf")
    async def information_form(product_id: str) -> Response:
        await inject_faults(state, Operation.DOCUMENT_DOWNLOAD)
        with state.lock:
            settle(state)
            product = state.products.get(product_id.lower())
            if product is None or not product.priced:
                raise ProblemError.not_found("No such document.", codes=["DOCUMENT_NOT_FOUND"])
            state.document_downloads[f"information-form-{product.id}.pdf"] += 1
            return _pdf_response(information_form_pdf(product), "bilgilendirme-formu.pdf")

    @router.get("/sandbox/logos/{slug}.svg")
    async def logo(slug: str) -> Response:
        insurer = insurer_by_slug(slug)
        if insurer is None:
            raise ProblemError.not_found("No such logo.")
        return Response(
            logo_svg(insurer.name, insurer.color),
            media_type="image/svg+xml",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    return router
