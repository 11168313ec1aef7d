// Step 4: pay. The purchase call returns a `redirectUrl`: the bank's 3-D Secure page (card
// payments) or the insurer's own payment page. The customer finishes there; the bank sends
// them back to the gateway, which checks with InsurUp and redirects to the result view.
//
// Card data: read from the inputs once, sent in the one request, then the inputs are
// emptied. It is never put in storage, the URL, or any variable that outlives the submit.

import { api, newIdempotencyKey } from "../api.js";
import { busy, clearProblems, field, h, hint, money, planLabel, showBanner } from "../ui.js";

const METHODS = {
  "3d-secure": { label: "Kartla öde (3-D Secure)", card: true },
  "third-party-3d-secure": { label: "Kartla öde (3-D Secure)", card: true },
  "insurance-company-redirect": { label: "Sigorta şirketinin ödeme sayfası", card: false },
};

export async function render(root, ctx) {
  const [quoteId, productId] = ctx.params;
  // Read the product fresh: it may have been sold or re-priced since the comparison.
  const quote = await api.get(`/quotes/${encodeURIComponent(quoteId)}`);
  if (!ctx.active) return;
  const product = quote.products.find((p) => p.productId === productId);
  const back = h("a", { href: `#/quotes/${encodeURIComponent(quoteId)}` }, "← Tekliflere dön");
  if (!product?.purchasable) {
    root.append(h("div", { class: "card" }, h("p", {}, "Bu teklif artık online satın alınamıyor. ", h("small", {}, "No longer sold online.")), back));
    return;
  }

  const wanted = Number(ctx.query.get("installment"));
  const plans = field("installmentNumber", "Ödeme planı", "Installments", {
    tag: "select",
    options: product.premiums.map((p) =>
      h("option", { value: p.installmentNumber, selected: p.installmentNumber === wanted }, `${planLabel(p.installmentNumber)}: ${money(p.grossPremium, p.currency)}`),
    ),
  });
  const methods = product.paymentMethods.filter((m) => METHODS[m]);
  const methodChoice = h(
    "fieldset",
    { class: "choice", "data-field": "method", hidden: methods.length < 2 },
    h("legend", {}, "Ödeme yöntemi ", h("small", {}, "Payment method")),
    ...methods.map((m, i) => h("label", {}, h("input", { type: "radio", name: "method", value: m, checked: i === 0 }), METHODS[m].label)),
    h("p", { class: "field-error" }),
  );
  const card = cardFields();
  const submit = h("button", { type: "submit", class: "primary", "data-testid": "pay" });
  const form = h(
    "form",
    { class: "card", novalidate: true, autocomplete: "on" },
    h("h1", {}, "Ödeme ", h("small", {}, "Payment")),
    h("p", { class: "summary" }, h("strong", {}, product.insurer.name), ` · ${[product.productName, product.coverageGroup?.name].filter(Boolean).join(" · ")}`),
    plans,
    methodChoice,
    card,
    submit,
    h("p", {}, back),
    hint("kart 4242 4242 4242 4242 onaylanır", "4000 0000 0000 0002 reddedilir", "banka SMS kodu 123456 (000000 reddedilir)"),
  );

  // The card inputs exist only for the methods that take a card.
  function methodChanged() {
    const method = METHODS[chosenMethod()];
    card.hidden = !method.card;
    card.disabled = !method.card;
    submit.replaceChildren(method.card ? "Öde ve bankaya git " : "Sigorta şirketinin sayfasına git ", h("small", {}, method.card ? "Pay" : "Continue"));
  }
  const chosenMethod = () => form.querySelector("input[name=method]:checked").value;
  methodChoice.addEventListener("change", methodChanged);
  methodChanged();

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearProblems(form);
    const method = chosenMethod();
    const body = { installmentNumber: Number(form.installmentNumber.value), method };
    if (METHODS[method].card) body.card = readCard(form);
    clearCard(card); // before the answer: a failed attempt must be typed again, not kept
    try {
      const started = await busy(submit, () =>
        api.post(`/quotes/${encodeURIComponent(quoteId)}/products/${encodeURIComponent(productId)}/purchase`, body, {
          // One key per attempt: a retried request (flaky network) cannot pay twice.
          headers: { "Idempotency-Key": newIdempotencyKey() },
        }),
      );
      submit.disabled = true; // leaving the page: no second tap meanwhile
      showBanner("Ödeme sayfasına yönlendiriliyorsunuz… Redirecting to the payment page");
      window.location.assign(started.redirectUrl);
    } catch (err) {
      ctx.fail(err, form);
    }
  });

  root.append(form);
}

function cardFields() {
  return h(
    "fieldset",
    { class: "card-fields" },
    h("legend", {}, "Kart bilgileri ", h("small", {}, "Card")),
    field("card.number", "Kart numarası", "Card number", { inputmode: "numeric", autocomplete: "cc-number", placeholder: "0000 0000 0000 0000", maxlength: 23 }),
    h(
      "div",
      { class: "row" },
      field("card.expiryMonth", "Ay", "MM", { inputmode: "numeric", autocomplete: "cc-exp-month", placeholder: "12", maxlength: 2 }),
      field("card.expiryYear", "Yıl", "YYYY", { inputmode: "numeric", autocomplete: "cc-exp-year", placeholder: "2030", maxlength: 4 }),
      field("card.cvc", "CVC", "3-4 hane", { inputmode: "numeric", autocomplete: "cc-csc", placeholder: "123", maxlength: 4 }),
    ),
    field("card.holderName", "Kart üzerindeki isim", "Name on card", { autocomplete: "cc-name", autocapitalize: "characters", spellcheck: "false" }),
  );
}

function readCard(form) {
  const value = (name) => form.querySelector(`[data-field="card.${name}"] input`).value.trim();
  return {
    number: value("number").replace(/[\s-]/g, ""),
    expiryMonth: value("expiryMonth"),
    expiryYear: value("expiryYear"),
    cvc: value("cvc"),
    holderName: value("holderName"),
  };
}

function clearCard(fieldset) {
  for (const input of fieldset.querySelectorAll("input")) input.value = "";
}
