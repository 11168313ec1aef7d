// Step 5: back from the bank. The gateway's callback redirects here with
// `?paymentId=...&status=...`. The status in the URL is only a first hint: the view asks
// GET /payments/{id} (which re-checks InsurUp while pending) until the payment is settled,
// then shows the policy and its PDF.

import { API_BASE, api } from "../api.js";
import { date, h, money, planLabel, sleep } from "../ui.js";

const POLL_MS = 2000;
const POLL_LIMIT_MS = 3 * 60 * 1000; // after that, tell the customer to check back later

// failureReason codes the gateway sends, in the customer's words.
const REASONS = {
  payment_not_completed: "Ödeme banka veya sigorta şirketi tarafından tamamlanmadı.",
  insurer_failed: "Sigorta şirketi poliçeyi düzenleyemedi.",
  abandoned: "Ödeme sayfasından dönülmedi.",
  not_started: "Ödeme başlatılamadı.",
};

export async function render(root, ctx) {
  const paymentId = ctx.query.get("paymentId");
  const box = h("div", { class: "card result", "data-testid": "payment-status", "data-status": "pending", "aria-live": "polite" });
  root.append(h("h1", {}, "Ödeme sonucu ", h("small", {}, "Payment result")), box);
  if (!paymentId) {
    box.append(h("p", {}, "Ödeme bilgisi bulunamadı."), h("a", { href: "#/vehicle" }, "Yeni teklif al"));
    return;
  }

  box.append(h("p", {}, h("span", { class: "spinner", "aria-hidden": "true" }), " Ödemeniz doğrulanıyor… ", h("small", {}, "Checking the payment")));
  const deadline = Date.now() + POLL_LIMIT_MS;
  let payment = await api.get(`/payments/${encodeURIComponent(paymentId)}`);
  while (payment.status === "pending" && ctx.active && Date.now() < deadline) {
    await sleep(POLL_MS);
    payment = await api.get(`/payments/${encodeURIComponent(paymentId)}`);
  }
  if (!ctx.active) return;

  box.dataset.status = payment.status;
  if (payment.status === "succeeded") return succeeded(box, payment, ctx);
  if (payment.status === "failed") return failed(box, payment);
  box.replaceChildren(
    h("p", {}, "Ödemeniz hâlâ doğrulanıyor. Birkaç dakika sonra bu sayfayı yenileyin. ", h("small", {}, "Still pending: reload later")),
  );
}

async function succeeded(box, payment, ctx) {
  box.replaceChildren(h("p", { class: "ok" }, "✓ Ödeme başarılı. Poliçeniz hazırlanıyor… ", h("small", {}, "Payment succeeded")));
  const policy = await api.get(`/policies/${encodeURIComponent(payment.policyId)}`);
  if (!ctx.active) return;
  box.replaceChildren(
    h("p", { class: "ok" }, "✓ Ödeme başarılı, poliçeniz düzenlendi. ", h("small", {}, "Payment succeeded")),
    h(
      "dl",
      { class: "policy" },
      h("dt", {}, "Poliçe no"),
      h("dd", { "data-testid": "policy-number" }, policy.policyNumber || "–"),
      h("dt", {}, "Sigorta şirketi"),
      h("dd", {}, policy.insurer.name),
      h("dt", {}, "Başlangıç – bitiş"),
      h("dd", {}, `${date(policy.startDate)} – ${date(policy.endDate)}`),
      h("dt", {}, "Prim"),
      h("dd", {}, `${money(policy.grossPremium, policy.currency || "TRY")} · ${planLabel(payment.installmentNumber)}`),
    ),
    // A plain link: the browser sends the session cookie and saves the streamed PDF itself.
    h("a", { class: "button primary", href: `${API_BASE}/policies/${encodeURIComponent(policy.policyId)}/document`, download: "", "data-testid": "policy-pdf" }, "Poliçeyi indir (PDF) ", h("small", {}, "Download")),
  );
}

function failed(box, payment) {
  box.replaceChildren(
    h("p", { class: "bad" }, "✗ Ödeme başarısız. ", h("small", {}, "Payment failed")),
    h("p", {}, REASONS[payment.failureReason] || "Ödeme onaylanmadı."),
    h("a", { class: "button", href: `#/quotes/${encodeURIComponent(payment.quoteId)}` }, "Tekliflere dön, tekrar dene ", h("small", {}, "Try again")),
  );
}
