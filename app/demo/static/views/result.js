// Step 5: back from the bank. The gateway's callback redirects here with
// `?paymentId=...&status=...`. The status in the URL is only a first hint: the view asks
// GET /payments/{id} until the payment is settled (signed webhooks, a reconciler and a quick
// re-check settle it within seconds of the bank page), then shows the policy and its PDF, or
// what went wrong and what to do next: pay again, or a new quote for the same car.

import { api, paths } from "../api.js";
import { failureText } from "../messages.js";
import { knownVehicle, newQuoteFor, quoteRoute } from "../sale.js";
import { busy, date, h, money, planLabel, progress, sleep } from "../ui.js";

const POLL_MS = 1000;
const POLL_LIMIT_MS = 3 * 60 * 1000; // after that, tell the customer to check back later

export async function render(root, ctx) {
  const paymentId = ctx.query.get("paymentId");
  const box = h("div", { class: "card result", "data-testid": "payment-status", "data-status": "pending" });
  const live = h("div", { role: "status", class: "sr-only" }); // the outcome, read out once
  root.append(h("h1", {}, "Ödeme sonucu"), box, live);
  if (!paymentId) {
    box.append(h("p", {}, "Ödeme bilgisi bulunamadı."), h("a", { class: "button", href: "#/vehicle" }, "Yeni teklif al"));
    return;
  }

  const waiting = progress("Ödemeniz bankadan ve sigorta şirketinden doğrulanıyor…", { slowAfterMs: 8000, testid: "payment-progress" });
  box.append(waiting.el);
  let payment;
  try {
    const deadline = Date.now() + POLL_LIMIT_MS;
    payment = await api.get(`/payments/${encodeURIComponent(paymentId)}`);
    while (payment.status === "pending" && ctx.active && Date.now() < deadline) {
      await sleep(POLL_MS);
      if (!ctx.active) return;
      payment = await api.get(`/payments/${encodeURIComponent(paymentId)}`);
    }
  } finally {
    waiting.stop();
  }
  if (!ctx.active) return;

  box.dataset.status = payment.status;
  if (payment.status === "succeeded") return succeeded(box, live, payment, ctx);
  if (payment.status === "failed") return failed(box, live, payment, ctx);
  const again = h("button", { type: "button", onclick: () => ctx.go(`/payment-result?paymentId=${encodeURIComponent(paymentId)}`) }, "Yeniden kontrol et");
  box.replaceChildren(h("p", {}, "Ödemeniz hâlâ doğrulanıyor. Birkaç dakika sonra yeniden kontrol edin; ödeme tamamlanırsa poliçeniz e-posta ile de gönderilir."), again);
}

async function succeeded(box, live, payment, ctx) {
  box.replaceChildren(h("p", { class: "ok" }, "✓ Ödeme başarılı. Poliçeniz hazırlanıyor…"));
  const policy = await api.get(`/policies/${encodeURIComponent(payment.policyId)}`);
  if (!ctx.active) return;
  live.textContent = "Ödeme başarılı, poliçeniz düzenlendi.";
  box.replaceChildren(
    h("p", { class: "ok" }, "✓ Ödeme başarılı, poliçeniz düzenlendi."),
    h(
      "dl",
      { class: "policy" },
      h("div", {}, h("dt", {}, "Poliçe no"), h("dd", { "data-testid": "policy-number" }, policy.policyNumber || "–")),
      h("div", {}, h("dt", {}, "Sigorta şirketi"), h("dd", {}, policy.insurer.name)),
      h("div", {}, h("dt", {}, "Başlangıç – bitiş"), h("dd", {}, `${date(policy.startDate)} – ${date(policy.endDate)}`)),
      h("div", {}, h("dt", {}, "Prim"), h("dd", {}, `${money(policy.grossPremium, policy.currency || "TRY")} · ${planLabel(payment.installmentNumber)}`)),
    ),
    // A plain link: the browser sends the session cookie and saves the streamed PDF itself.
    h("a", { class: "button primary", href: paths.policyDocument(policy.policyId), download: "", "data-testid": "policy-pdf" }, "Poliçeyi indir (PDF)"),
  );
}

function failed(box, live, payment, ctx) {
  const reason = failureText(payment.failureReason);
  live.textContent = `Ödeme başarısız. ${reason}`;
  box.dataset.reason = payment.failureReason ?? "";
  const params = new URLSearchParams({ installment: String(payment.installmentNumber) });
  const vehicle = ctx.query.get("vehicle");
  if (vehicle) params.set("vehicle", vehicle);
  const payAgain = h(
    "a",
    { class: "button primary", href: `#/pay/${encodeURIComponent(payment.quoteId)}/${encodeURIComponent(payment.productId)}?${params}`, "data-testid": "pay-again" },
    "Tekrar dene",
  );
  const fresh = h("button", { type: "button", "data-testid": "new-quote" }, "Yeni teklif al");
  fresh.addEventListener("click", async () => {
    try {
      await busy(fresh, async () => {
        const vehicleId = await knownVehicle(ctx.query);
        ctx.go(vehicleId ? await newQuoteFor(vehicleId) : "/vehicle");
      });
    } catch (err) {
      ctx.fail(err);
    }
  });
  box.replaceChildren(
    h("p", { class: "bad" }, "✗ Ödeme tamamlanamadı."),
    h("p", { "data-testid": "failure-reason" }, reason),
    h("div", { class: "actions" }, payAgain, fresh, h("a", { class: "button", href: `#${quoteRoute(payment.quoteId, vehicle)}` }, "Tekliflere dön")),
  );
}
