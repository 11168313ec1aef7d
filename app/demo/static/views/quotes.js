// Step 3: the comparison. Insurers answer one by one over several seconds; the gateway
// pushes each answer as a Server-Sent Event (`product`), then `complete` with the whole,
// sorted quote. Where EventSource fails (an old proxy buffering the stream, a dropped
// connection), the view falls back to polling GET /quotes/{id} every 2 seconds.

import { API_BASE, api } from "../api.js";
import { h, hint, money, planLabel, sleep } from "../ui.js";

const POLL_MS = 2000;
const POLL_LIMIT_MS = 5 * 60 * 1000; // the same bound as the gateway's own stream

export function render(root, ctx) {
  const [quoteId] = ctx.params;
  const status = h("p", { class: "quotes-status", "data-testid": "quotes-status", "aria-live": "polite" }, "Sigorta şirketlerine soruluyor…");
  const list = h("ul", { class: "products", "data-testid": "products" });
  root.append(
    h("h1", {}, "Teklifler ", h("small", {}, "Compare quotes")),
    status,
    list,
    hint("robot teklifleri online satılamaz: 'sizi arayalım' yazar"),
  );

  // productId -> product. While streaming, cards keep the order they first arrived in;
  // a full quote (complete event or poll) brings the API's order, which is the one to show.
  const products = new Map();
  const chosenPlan = new Map(); // productId -> installmentNumber the customer picked

  function upsert(product) {
    const card = productCard(quoteId, product, chosenPlan, ctx);
    const old = list.querySelector(`[data-product-id="${CSS.escape(product.productId)}"]`);
    if (old) old.replaceWith(card);
    else list.append(card);
    products.set(product.productId, product);
    const waiting = [...products.values()].filter((p) => p.state === "waiting").length;
    status.textContent = `${products.size - waiting} / ${products.size} sigorta şirketi yanıt verdi…`;
  }

  function showQuote(quote) {
    products.clear();
    list.replaceChildren();
    quote.products.forEach(upsert);
    if (quote.complete) finish(quote);
  }

  function finish(quote, note = "") {
    const priced = quote.products.filter((p) => p.state === "active").length;
    status.textContent = `Karşılaştırma tamamlandı: ${priced} fiyat${quote.lowestPremium ? `, en düşük ${money(quote.lowestPremium.amount, quote.lowestPremium.currency)}` : ""}. ${note}`;
    status.dataset.complete = "true";
  }

  async function poll() {
    list.dataset.transport = "polling";
    const deadline = Date.now() + POLL_LIMIT_MS;
    while (ctx.active) {
      const quote = await api.get(`/quotes/${encodeURIComponent(quoteId)}`);
      if (!ctx.active) return;
      showQuote(quote);
      if (quote.complete) return;
      if (Date.now() > deadline) return finish(quote, "Bazı şirketler yanıt vermedi.");
      await sleep(POLL_MS);
    }
  }

  function listen() {
    list.dataset.transport = "sse";
    // withCredentials: sends the session cookie when the gateway is on another origin too.
    const source = new EventSource(`${API_BASE}/quotes/${encodeURIComponent(quoteId)}/events`, { withCredentials: true });
    ctx.onLeave(() => source.close());
    source.addEventListener("product", (event) => upsert(JSON.parse(event.data)));
    source.addEventListener("complete", (event) => {
      source.close(); // the server ends the stream now; do not let EventSource reconnect
      showQuote(JSON.parse(event.data));
    });
    source.addEventListener("timeout", async () => {
      source.close(); // 5 minutes without every answer: show what there is
      try {
        const quote = await api.get(`/quotes/${encodeURIComponent(quoteId)}`);
        if (!ctx.active) return;
        showQuote(quote);
        if (!quote.complete) finish(quote, "Bazı şirketler yanıt vermedi.");
      } catch (err) {
        ctx.fail(err);
      }
    });
    // Any failure (including 401: EventSource cannot tell why): stop the automatic
    // reconnects and poll instead; the poll's answer says what is wrong, if anything is.
    source.onerror = () => {
      source.close();
      poll().catch((err) => ctx.fail(err));
    };
  }

  if (typeof EventSource === "function") listen();
  else poll().catch((err) => ctx.fail(err));
}

/** One insurer's answer: waiting, failed, or priced (buyable online, or call-back only). */
function productCard(quoteId, product, chosenPlan, ctx) {
  const p = product;
  const logo = p.insurer.logoUrl
    ? h("img", { src: p.insurer.logoUrl, alt: "", width: 40, height: 40, loading: "lazy", onerror: (e) => e.target.remove() })
    : null;
  return h(
    "li",
    {
      class: `product state-${p.state}`,
      "data-testid": "product",
      "data-product-id": p.productId,
      "data-state": p.state,
      "data-purchasable": String(p.purchasable),
      "data-methods": p.paymentMethods.join(" "),
    },
    h(
      "div",
      { class: "insurer" },
      logo,
      h("div", {}, h("strong", {}, p.insurer.name), h("br"), h("span", { class: "muted" }, [p.productName, p.coverageGroup?.name].filter(Boolean).join(" · "))),
      p.lowestGrossPremium !== null ? h("span", { class: "price" }, money(p.lowestGrossPremium, p.premiums[0]?.currency)) : null,
    ),
    cardBody(quoteId, p, chosenPlan, ctx),
  );
}

function cardBody(quoteId, p, chosenPlan, ctx) {
  switch (p.state) {
    case "waiting":
      return h("p", { class: "muted" }, h("span", { class: "spinner", "aria-hidden": "true" }), " Fiyat bekleniyor… ", h("small", {}, "Waiting"));
    case "failed":
      return h("p", { class: "muted" }, p.errorMessage || "Bu şirket teklif veremedi.");
    case "purchasing":
      return h("p", {}, "Ödeme sürüyor. ", h("small", {}, "Payment in progress"));
    case "purchased":
      return h("p", {}, "Satın alındı. ", h("small", {}, "Purchased"));
  }
  if (!p.purchasable) {
    // Robot (screen-scraped) prices and other offline products cannot be paid online.
    return h("p", { class: "callback", "data-testid": "call-me-back" }, "Bu teklif için temsilcimiz sizi arasın. ", h("small", {}, "Call me back: not sold online"));
  }
  if (!chosenPlan.has(p.productId)) chosenPlan.set(p.productId, p.premiums[0]?.installmentNumber);
  const plans = h(
    "fieldset",
    { class: "plans" },
    h("legend", {}, "Ödeme planı ", h("small", {}, "Installments")),
    ...p.premiums.map((premium) => {
      const n = premium.installmentNumber;
      const each = n > 1 ? ` (${n} × ${money(premium.grossPremium / n, premium.currency)})` : "";
      return h(
        "label",
        {},
        h("input", {
          type: "radio",
          name: `plan-${p.productId}`,
          value: n,
          checked: chosenPlan.get(p.productId) === n,
          onchange: () => chosenPlan.set(p.productId, n),
        }),
        `${planLabel(n)}: ${money(premium.grossPremium, premium.currency)}${each}`,
      );
    }),
  );
  const buy = h(
    "button",
    {
      type: "button",
      class: "primary",
      "data-testid": "buy",
      onclick: () => ctx.go(`/pay/${encodeURIComponent(quoteId)}/${encodeURIComponent(p.productId)}?installment=${chosenPlan.get(p.productId)}`),
    },
    "Satın al ",
    h("small", {}, "Buy"),
  );
  return h("div", {}, plans, buy);
}
