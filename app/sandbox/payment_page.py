"""The fake bank / insurer payment page behind `redirectUrl` (reference 6.3, 7, 10.6).

`GET /sandbox/pay/{id}` is a self-contained HTML page (no external assets) with Approve and
Decline forms. The form endpoints need no token and work for non-browser clients too
(a form POST, body optional). Each answers `303` to `callbackUrl` with deliberately
misleading query parameters (`success=true&status=PURCHASED&...` and a made-up `policyId`,
whatever happened): the gateway must re-read the product instead of trusting them.

- Approve: PURCHASED + policy, unless the card is the declining test card or the 3-D
  Secure SMS code is `000000` (then declined).
- Decline: the product goes back to ACTIVE; the failure stays on the payment session.
- `callback-without-purchase`: straight to the callback, nothing changes (PURCHASING).
- A decided or expired session: the form endpoints repeat the redirect and change nothing.

With `purchase_form_post` the card methods hand the browser over with an auto-posted form
(3-D Secure style): `POST /sandbox/pay/{id}` with `PaReq`, `MD`, `TermUrl`
(application/x-www-form-urlencoded) renders the page; a GET answers 405. Sessions started
without a `PaReq` (the default, and `insurance-company-redirect` always) are GET-only.
"""

import hashlib
from html import escape
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from .enums import AsyncPaymentType
from .lifecycle import decide_payment, settle
from .pricing import turkish_amount
from .problems import ProblemError, ProblemType, ValidationIssue
from .records import PaymentDecision, PaymentSession
from .routing import base_url
from .state import SandboxState

FAILING_SMS_CODE = "000000"
CALLBACK_WITHOUT_PURCHASE = "callback_without_purchase"

_METHOD_LABELS = {
    AsyncPaymentType.THREE_D_SECURE: "3-D Secure (banka doğrulaması)",
    AsyncPaymentType.INSURANCE_COMPANY_REDIRECT: "Sigorta şirketi ödeme sayfası",
    AsyncPaymentType.THIRD_PARTY_3D_SECURE: "Aracı kurum 3-D Secure (Paratika)",
}
_DECISION_LABELS = {
    PaymentDecision.APPROVED: "Ödeme onaylandı.",
    PaymentDecision.DECLINED: "Ödeme reddedildi.",
    PaymentDecision.EXPIRED: "Ödeme oturumu zaman aşımına uğradı.",
}


def misleading_callback(session: PaymentSession) -> str:
    """`callbackUrl` plus query parameters that claim success whatever happened."""
    fake_policy = hashlib.sha256(f"fake-policy:{session.id}".encode()).hexdigest()[:24]
    parts = urlsplit(session.callback_url)
    extra = urlencode(
        {
            "success": "true",
            "status": "PURCHASED",
            "paymentStatus": "approved",
            "mdStatus": "1",
            "procReturnCode": "00",
            "proposalId": session.proposal_id,
            "proposalProductId": session.product_id,
            "policyId": fake_policy,
        }
    )
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


async def _form(request: Request) -> dict[str, str]:
    """The urlencoded form fields (first value of each); {} for any other body."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/x-www-form-urlencoded":
        return {}
    fields = parse_qs((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
    return {name: values[0] for name, values in fields.items()}


def _method_not_allowed(request: Request, allowed: str, detail: str) -> ProblemError:
    return ProblemError(
        status=405,
        type_=ProblemType.METHOD_NOT_ALLOWED,
        title="Method Not Allowed",
        detail=f"{request.method} is not allowed on {request.url.path}: {detail}",
        headers={"Allow": allowed},
    )


def _hand_off_issues(session: PaymentSession, form: dict[str, str]) -> list[ValidationIssue]:
    """The form POST must carry the `formParameters` of `purchase/async` unchanged."""
    expected = {"PaReq": session.pa_req, "MD": session.id, "TermUrl": session.callback_url}
    return [
        ValidationIssue(
            name,
            f"'{name}' is missing or is not the value purchase/async handed out.",
            None if name == "PaReq" else form.get(name),
        )
        for name, value in expected.items()
        if form.get(name) != value
    ]


def _page(state: SandboxState, session: PaymentSession, origin: str) -> str:
    product = state.products[session.product_id]
    premium = product.premium(session.installment_number)
    amount = "-" if premium is None else turkish_amount(premium.gross_premium)
    installments = (
        "Peşin" if session.installment_number == 1 else f"{session.installment_number} taksit"
    )
    card = (
        ""
        if session.card_last4 is None
        else f"<dt>Kart</dt><dd>**** **** **** {escape(session.card_last4)}</dd>"
    )
    action = f"{origin}/sandbox/pay/{escape(session.id)}"
    if session.decision is not None:
        body = f"<p class=done>{escape(_DECISION_LABELS[session.decision])}</p>"
    else:
        sms = (
            '<label>SMS doğrulama kodu <input name="smsCode" inputmode="numeric" '
            'maxlength="6" autocomplete="one-time-code"></label>'
            if session.method.needs_card
            else ""
        )
        body = (
            f'<form method="post" action="{action}/approve">{sms}'
            '<button type="submit">Onayla / Approve</button></form>'
            f'<form method="post" action="{action}/decline">'
            '<button type="submit" class=secondary>Reddet / Decline</button></form>'
            f'<form method="post" action="{action}/callback-without-purchase">'
            '<button type="submit" class=link>Satın almadan geri dön (test)</button></form>'
        )
    return f"""<!doctype html>
<html lang="tr"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>InsurUp sandbox ödeme</title>
<style>
body{{font-family:system-ui,sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem}}
dl{{display:grid;grid-template-columns:auto 1fr;gap:.3rem 1rem}}dt{{color:#555}}
form{{margin:.8rem 0}}input{{display:block;margin:.3rem 0 .6rem;font-size:1.2rem}}
button{{font-size:1rem;padding:.5rem 1rem}}.secondary{{background:#eee}}
.link{{background:none;border:none;text-decoration:underline;color:#555}}
.note{{font-size:.8rem;color:#777}}
</style></head><body>
<h1>{escape(product.insurer.name)}</h1>
<p>InsurUp sandbox: sahte ödeme sayfası</p>
<dl>
<dt>Ürün</dt><dd>{escape(product.insurer.product_name)}</dd>
<dt>Tutar</dt><dd>{escape(amount)}</dd>
<dt>Taksit</dt><dd>{escape(installments)}</dd>
<dt>Yöntem</dt><dd>{escape(_METHOD_LABELS[session.method])}</dd>
{card}
</dl>
{body}
<p class=note>Test: 4242 4242 4242 4242 onaylanır; 4000 0000 0000 0002 reddedilir;
SMS kodu 000000 reddedilir.</p>
</body></html>"""


def build_payment_page_router(state: SandboxState) -> APIRouter:
    router = APIRouter(tags=["sandbox"], include_in_schema=False)

    def session_of(session_id: str) -> PaymentSession:
        settle(state)
        session = state.payment_sessions.get(session_id)
        if session is None:
            raise ProblemError.not_found(
                "No such payment session.", codes=["PAYMENT_SESSION_NOT_FOUND"]
            )
        return session

    def to_callback(session: PaymentSession) -> RedirectResponse:
        location = misleading_callback(session)
        state.callback_redirects.append(location)
        return RedirectResponse(location, status_code=303)

    @router.get("/sandbox/pay/{session_id}")
    async def payment_page(session_id: str, request: Request) -> HTMLResponse:
        with state.lock:
            session = session_of(session_id)
            if session.pa_req is not None:
                raise _method_not_allowed(
                    request, "POST", "post the formParameters of purchase/async here."
                )
            page = _page(state, session, base_url(request))
        return HTMLResponse(page, headers={"Cache-Control": "no-store"})

    @router.post("/sandbox/pay/{session_id}")
    async def payment_page_form_post(session_id: str, request: Request) -> HTMLResponse:
        form = await _form(request)
        with state.lock:
            session = session_of(session_id)
            if session.pa_req is None:
                raise _method_not_allowed(request, "GET", "this payment page is opened with GET.")
            issues = _hand_off_issues(session, form)
            if issues:
                raise ProblemError.input_validation(issues, status=400)
            page = _page(state, session, base_url(request))
        return HTMLResponse(page, headers={"Cache-Control": "no-store"})

    @router.post("/sandbox/pay/{session_id}/approve")
    async def approve(session_id: str, request: Request) -> RedirectResponse:
        sms_code = (await _form(request)).get("smsCode")
        with state.lock:
            session = session_of(session_id)
            if state.config.callback_without_purchase:
                state.payment_outcomes[CALLBACK_WITHOUT_PURCHASE] += 1
            elif session.decision is None:
                if session.method.needs_card and sms_code == FAILING_SMS_CODE:
                    reason: str | None = "3-D Secure doğrulaması başarısız (SMS kodu hatalı)."
                elif session.card_declines:
                    reason = "Kart bankası işlemi onaylamadı (51: yetersiz bakiye)."
                else:
                    reason = None
                decision = PaymentDecision.APPROVED if reason is None else PaymentDecision.DECLINED
                decide_payment(state, session, decision, reason)
            return to_callback(session)

    @router.post("/sandbox/pay/{session_id}/decline")
    async def decline(session_id: str) -> RedirectResponse:
        with state.lock:
            session = session_of(session_id)
            if state.config.callback_without_purchase:
                state.payment_outcomes[CALLBACK_WITHOUT_PURCHASE] += 1
            elif session.decision is None:
                decide_payment(
                    state, session, PaymentDecision.DECLINED, "Müşteri ödemeyi iptal etti."
                )
            return to_callback(session)

    @router.post("/sandbox/pay/{session_id}/callback-without-purchase")
    async def callback_without_purchase(session_id: str) -> RedirectResponse:
        with state.lock:
            session = session_of(session_id)
            state.payment_outcomes[CALLBACK_WITHOUT_PURCHASE] += 1
            return to_callback(session)

    return router
