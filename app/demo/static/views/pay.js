// Step 4: pay. A distance sale needs the product's pre-contract information form (ön
// bilgilendirme formu) opened and accepted first: the link opens the PDF in a new tab (the
// gateway notes that this session opened it), which enables the check box, which enables the
// pay button. The purchase answer says how to reach the bank's 3-D Secure page (a form post of
// its fields) or the insurer's payment page (a plain navigation); the customer finishes there
// and the gateway sends them back to the result view.
//
// Card data: read from the inputs once, sent in the one request, then the inputs are
// emptied. It is never put in storage, the URL, or any variable that outlives the submit.

import { api, isProblem, newIdempotencyKey, paths } from "../api.js";
import { METHOD_LABELS, NOT_PURCHASABLE } from "../messages.js";
import { goToPayment, knownVehicle, newQuoteFor, quoteRoute } from "../sale.js";
import { busy, clearBanner, clearProblems, field, h, hint, money, planLabel, progress, showBanner, showProblem, withProgress } from "../ui.js";

const CARD_METHODS = new Set(["3d-secure", "third-party-3d-secure"]);

export async function render(root, ctx) {
  const [quoteId, productId] = ctx.params;
  const q = encodeURIComponent(quoteId);
  const vehicleId = ctx.query.get("vehicle");
  const back = h("a", { href: `#${quoteRoute(quoteId, vehicleId)}` }, "← Tekliflere dön");

  // Read the product fresh: it may have been sold or re-priced since the comparison.
  const loading = progress("Teklif bilgileri alınıyor…", { testid: "pay-loading" });
  root.append(h("h1", {}, "Ödeme"), loading.el);
  let quote;
  try {
    quote = await api.get(`/quotes/${q}`);
  } finally {
    loading.stop();
  }
  if (!ctx.active) return;
  const product = quote.products.find((p) => p.productId === productId);
  const other = quote.products.find((p) => p.productId !== productId && (p.state === "purchasing" || p.state === "purchased"));

  if (!product || !product.purchasable || other) {
    const why = !product
      ? "Bu teklif bulunamadı."
      : other
        ? other.state === "purchased"
          ? `Bu tekliften ${other.insurer.name} poliçesi satın alındı.`
          : `Bu teklifte ${other.insurer.name} için bir ödeme sürüyor. Başka bir ürün için aynı araçla yeni teklif alın.`
        : product.state === "purchasing"
          ? "Bu ürün için bir ödeme sürüyor."
          : NOT_PURCHASABLE[product.notPurchasableReason] ?? "Bu teklif online satın alınamıyor.";
    const box = h("div", { class: "card", "data-testid": "not-payable" }, h("p", {}, why));
    if (other?.state === "purchasing" || product?.state === "purchasing") box.append(newQuoteButton(ctx, vehicleId));
    box.append(h("p", {}, back));
    root.append(box);
    return;
  }

  const wanted = Number(ctx.query.get("installment"));
  const plans = field("installmentNumber", "Ödeme planı", null, {
    tag: "select",
    options: product.premiums.map((p) =>
      h("option", { value: p.installmentNumber, selected: p.installmentNumber === wanted }, `${planLabel(p.installmentNumber)}: ${money(p.grossPremium, p.currency)}`),
    ),
  });
  const methods = product.paymentMethods.filter((m) => METHOD_LABELS[m]);
  const methodChoice = h(
    "fieldset",
    { class: "choice", "data-field": "method", hidden: methods.length < 2 },
    h("legend", {}, "Ödeme yöntemi"),
    ...methods.map((m, i) => h("label", {}, h("input", { type: "radio", name: "method", value: m, checked: i === 0 }), METHOD_LABELS[m])),
    h("p", { class: "field-error" }),
  );
  const card = cardFields();
  const consent = informationForm(paths.informationForm(quoteId, productId));
  const payHelp = h("p", { class: "muted", id: "pay-help", "data-testid": "pay-help" }, "Ödeme için ön bilgilendirme formunu açıp onaylayın.");
  const submit = h("button", { type: "submit", class: "primary", "data-testid": "pay", disabled: true, "aria-describedby": "pay-help" });
  const working = h("div", { class: "status-slot" });
  const stuck = h("div", { class: "stuck", "data-testid": "payment-in-progress", hidden: true, tabindex: "-1" });
  const total = h("p", { class: "total", "data-testid": "total" });
  const form = h(
    "form",
    { class: "card", novalidate: true, autocomplete: "on" },
    h("p", { class: "summary" }, h("strong", {}, product.insurer.name), ` · ${[product.productName, product.coverageGroup?.name].filter(Boolean).join(" · ")}`),
    plans,
    methodChoice,
    card,
    consent.el,
    total,
    payHelp,
    submit,
    working,
    stuck,
    h("p", {}, back),
    methods.some((m) => CARD_METHODS.has(m))
      ? hint("kart 4242 4242 4242 4242 onaylanır", "4000 0000 0000 0002 reddedilir", "bankada SMS kodu 123456 (000000 reddedilir)")
      : hint("sigorta şirketinin sayfasında Approve ödemeyi onaylar, Decline reddeder"),
  );

  const chosenMethod = () => form.querySelector("input[name=method]:checked")?.value ?? methods[0];
  const chosenPlan = () => Number(form.installmentNumber.value);

  function refresh() {
    const method = chosenMethod();
    const takesCard = CARD_METHODS.has(method);
    card.hidden = !takesCard;
    card.disabled = !takesCard;
    submit.replaceChildren(takesCard ? "Öde ve bankaya git" : "Sigorta şirketinin ödeme sayfasına git");
    const premium = product.premiums.find((p) => p.installmentNumber === chosenPlan());
    total.textContent = premium ? `Ödenecek tutar: ${money(premium.grossPremium, premium.currency)} (${planLabel(premium.installmentNumber)})` : "";
    const ready = consent.accepted() && stuck.hidden;
    submit.disabled = !ready;
    payHelp.hidden = consent.accepted(); // a payment under way explains itself below
  }
  methodChoice.addEventListener("change", refresh);
  plans.addEventListener("change", refresh);
  consent.onChange(refresh);
  refresh();

  // One Idempotency-Key per attempt: a timeout or a dropped connection is retried with the same
  // key (the gateway then starts one payment at most); a changed plan or method, or a
  // definitive answer, makes a new attempt.
  let attempt = null;
  const keyFor = (body) => {
    const what = `${body.installmentNumber}/${body.method}`;
    if (attempt?.what !== what) attempt = { what, key: newIdempotencyKey() };
    return attempt.key;
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (submit.disabled) return;
    clearProblems(form);
    const method = chosenMethod();
    const body = { installmentNumber: chosenPlan(), method, informationFormAccepted: consent.accepted() };
    if (CARD_METHODS.has(method)) body.card = readCard(form);
    clearCard(card); // before the answer: a failed attempt must be typed again, not kept
    const key = keyFor(body);
    try {
      const started = await busy(submit, () =>
        withProgress(working, "Ödeme başlatılıyor, sigorta şirketine bağlanılıyor…", () =>
          api.post(`/quotes/${q}/products/${encodeURIComponent(productId)}/purchase`, body, { headers: { "Idempotency-Key": key } }),
          { testid: "pay-progress" },
        ),
      );
      submit.disabled = true; // leaving the page: no second tap meanwhile
      showBanner("Ödeme sayfasına yönlendiriliyorsunuz…", { tone: "info" });
      goToPayment(started.redirect ?? { url: started.redirectUrl, method: "GET", fields: {} });
    } catch (err) {
      if (!retryable(err)) attempt = null;
      if (!ctx.active) return;
      if (isProblem(err, "payment_in_progress")) return paymentUnderWay(err.problem.paymentId);
      if (isProblem(err, "information_form_required")) {
        consent.reset();
        refresh();
        return showProblem(form, err);
      }
      if (err.needsSignIn) return ctx.fail(err);
      refresh();
      showProblem(form, err);
    }
  });

  /** 409 payment_in_progress: follow that payment, or start over with a new quote. */
  function paymentUnderWay(paymentId) {
    clearBanner();
    const follow = h("a", { class: "button primary", href: `#/payment-result?paymentId=${encodeURIComponent(paymentId ?? "")}`, "data-testid": "follow-payment" }, "Ödemeyi takip et");
    stuck.replaceChildren(
      h("h2", {}, "Bu teklif için bir ödeme sürüyor"),
      h("p", {}, "Bu teklifteki bir ürün için başlatılmış bir ödeme var. O ödemeyi takip edebilir ya da aynı araç için yeni teklif alıp yeniden seçebilirsiniz."),
      h("div", { class: "actions" }, paymentId ? follow : null, newQuoteButton(ctx, vehicleId)),
    );
    stuck.hidden = false;
    refresh();
    stuck.focus();
  }

  root.append(form);
  plans.querySelector("select").focus();
}

/** "Yeni teklif al": the same car, every insurer asked again. */
function newQuoteButton(ctx, vehicleId) {
  const again = h("button", { type: "button", "data-testid": "new-quote" }, "Yeni teklif al");
  again.addEventListener("click", async () => {
    try {
      await busy(again, async () => {
        const vehicle = vehicleId ?? (await knownVehicle(ctx.query));
        ctx.go(vehicle ? await newQuoteFor(vehicle) : "/vehicle");
      });
    } catch (err) {
      ctx.fail(err);
    }
  });
  return again;
}

const retryable = (err) => err?.status === 0 || err?.status >= 500 || err?.code === "request_in_progress";

/**
 * The pre-contract information form: a link that opens it (the gateway records the opening)
 * and the acceptance check box, enabled only once the link was used.
 */
function informationForm(href) {
  const box = h("input", {
    type: "checkbox",
    id: "f-informationFormAccepted",
    name: "informationFormAccepted",
    disabled: true,
    "aria-describedby": "information-form-help f-informationFormAccepted-error",
    "data-testid": "information-form-accepted",
  });
  const help = h("p", { class: "muted", id: "information-form-help" }, "Önce formu açın; onay kutusu ardından kullanılabilir.");
  const link = h(
    "a",
    { href, target: "_blank", rel: "noopener", class: "button", "data-testid": "information-form" },
    "Ön bilgilendirme formunu aç (PDF, yeni sekmede)",
  );
  const listeners = [];
  link.addEventListener("click", () => {
    box.disabled = false;
    help.textContent = "Formu okuduktan sonra onay kutusunu işaretleyin.";
    listeners.forEach((fn) => fn());
  });
  box.addEventListener("change", () => listeners.forEach((fn) => fn()));
  const el = h(
    "fieldset",
    { class: "information-form", "data-field": "informationFormAccepted" },
    h("legend", {}, "Ön bilgilendirme formu"),
    h("p", {}, "Mesafeli satış mevzuatı gereği, ödemeden önce bu ürünün ön bilgilendirme formunu okumanız gerekir."),
    link,
    help,
    h("div", { class: "check" }, box, h("label", { for: "f-informationFormAccepted" }, "Ön bilgilendirme formunu okudum ve kabul ediyorum")),
    h("p", { class: "field-error", id: "f-informationFormAccepted-error", "data-testid": "error-informationFormAccepted" }),
  );
  return {
    el,
    accepted: () => !box.disabled && box.checked,
    onChange: (fn) => listeners.push(fn),
    /** The gateway says the form was not opened in this session: open it again. */
    reset() {
      box.checked = false;
      box.disabled = true;
      help.textContent = "Önce formu açın; onay kutusu ardından kullanılabilir.";
    },
  };
}

function cardFields() {
  return h(
    "fieldset",
    { class: "card-fields", "data-field": "card" },
    h("legend", {}, "Kart bilgileri"),
    field("card.number", "Kart numarası", null, { inputmode: "numeric", autocomplete: "cc-number", placeholder: "0000 0000 0000 0000", maxlength: 23 }),
    h(
      "div",
      { class: "row" },
      field("card.expiryMonth", "Ay", null, { inputmode: "numeric", autocomplete: "cc-exp-month", placeholder: "AA", maxlength: 2 }),
      field("card.expiryYear", "Yıl", null, { inputmode: "numeric", autocomplete: "cc-exp-year", placeholder: "YYYY", maxlength: 4 }),
      field("card.cvc", "CVC", null, { inputmode: "numeric", autocomplete: "cc-csc", placeholder: "123", maxlength: 4 }),
    ),
    field("card.holderName", "Kart üzerindeki isim", null, { autocomplete: "cc-name", autocapitalize: "characters", spellcheck: "false" }),
    h("p", { class: "field-error", "data-testid": "error-card" }),
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
