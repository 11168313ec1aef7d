// Step 3: the comparison. Insurers answer one by one over several seconds; the typed client
// follows the quote (Server-Sent Events, or polling GET /quotes/{id} when the stream fails)
// and each answer lands on its card. Products are grouped by package (Dar / Genişletilmiş
// Kasko); insurers are counted once however many packages they priced. A card can show its
// main coverage lines, and two or three cards can be compared side by side. Robot prices
// (set by an insurer's staff) cannot be bought online: they offer a call-back instead and are
// never called the lowest price. Once a product is being paid for (or bought), the other pay
// buttons say so.

import { api, quoteEvents } from "../api.js";
import { COVERAGE_LINES, NOT_PURCHASABLE, coverageValue, looksTurkish } from "../messages.js";
import { knownVehicle, newQuoteFor } from "../sale.js";
import { busy, clearBanner, h, hint, money, planLabel, uid, withProgress } from "../ui.js";

const MAX_COMPARE = 3;

export function render(root, ctx) {
  const [quoteId] = ctx.params;
  const vehicleId = ctx.query.get("vehicle");
  const q = encodeURIComponent(quoteId);

  const statusText = h("p", { class: "quotes-status", "data-testid": "quotes-status" }, "Sigorta şirketlerine soruluyor…");
  const bar = h("progress", { max: 1, value: 0, "aria-label": "Yanıt veren sigorta şirketleri" });
  const note = h("p", { class: "note", "data-testid": "quotes-note", hidden: true });
  const status = h("div", { class: "card status", role: "status" }, statusText, bar, note);
  const lock = h("div", { class: "card lock", "data-testid": "quote-lock", hidden: true });
  const groups = h("div", { class: "groups", "data-testid": "products" });
  const compareCount = h("span", {}, "");
  const compareButton = h("button", { type: "button", class: "primary", disabled: true, "data-testid": "compare" }, "Karşılaştır");
  const clearButton = h("button", { type: "button", "data-testid": "compare-clear" }, "Seçimi temizle");
  const compareBar = h(
    "div",
    { class: "compare-bar", "data-testid": "compare-bar", hidden: true, role: "region", "aria-label": "Karşılaştırma seçimi" },
    compareCount,
    h("div", { class: "actions" }, compareButton, clearButton),
  );
  const compareBox = h("section", { class: "card compare", "data-testid": "comparison", hidden: true, "aria-labelledby": "compare-title" });
  root.append(
    h("h1", {}, "Kasko teklifleri"),
    status,
    lock,
    groups,
    compareBox,
    compareBar,
    hint("robot teklifleri online satılamaz: 'Beni arayın' düğmesi çıkar"),
  );

  // What the page knows and what the customer chose; cards are rebuilt from these.
  const products = new Map(); // productId -> ProductRead, latest
  let order = []; // productIds: arrival order while streaming, the API's order once complete
  let complete = false;
  const chosenPlan = new Map(); // productId -> installmentNumber
  const compared = new Set(); // productIds to compare
  const openCoverage = new Set(); // productIds whose coverage lines are shown
  const coverage = new Map(); // productId -> Promise<ProductCoverage>
  const callBacks = new Map(); // productId -> "sent" | "unavailable"
  const cards = new Map(); // productId -> { signature, el }

  // -- following the quote -----------------------------------------------------------------
  let aborter = null;
  ctx.onLeave(() => aborter?.abort());

  async function follow(event) {
    if (event) clearBanner(); // "Tekrar dene": the last failure is no longer news
    aborter?.abort();
    aborter = new AbortController();
    const { signal } = aborter;
    complete = false;
    delete statusText.dataset.complete;
    setNote("");
    try {
      for await (const event of quoteEvents(quoteId, { signal, onTransport: (t) => (groups.dataset.transport = t) })) {
        if (!ctx.active) return;
        switch (event.type) {
          case "product":
            setNote("");
            upsert(event.product);
            break;
          case "complete":
            showQuote(event.quote);
            return;
          case "timeout": {
            showQuote(await api.get(`/quotes/${q}`));
            if (!complete) finish("Bazı sigorta şirketleri zamanında yanıt vermedi.", true);
            return;
          }
          case "error":
            // A passing InsurUp failure: the client goes on asking; say so.
            setNote("Sigorta platformu şu an yavaş ya da yanıt vermiyor; otomatik olarak tekrar deneniyor…");
            break;
        }
      }
    } catch (err) {
      if (signal.aborted || !ctx.active) return;
      if (err?.needsSignIn) return ctx.fail(err);
      setNote("Teklifler alınamadı.");
      ctx.fail(err, null, [h("button", { type: "button", "data-testid": "retry", onclick: follow }, "Tekrar dene")]);
    }
  }

  function setNote(text, actions = []) {
    note.replaceChildren(text, ...(actions.length ? [" ", ...actions] : []));
    note.hidden = !text;
  }

  function upsert(product) {
    if (!products.has(product.productId)) order.push(product.productId);
    products.set(product.productId, product);
    draw();
  }

  function showQuote(quote) {
    products.clear();
    for (const product of quote.products) products.set(product.productId, product);
    order = quote.products.map((p) => p.productId);
    draw();
    if (quote.complete) finish();
  }

  function finish(extra = "", offerRetry = false) {
    complete = true;
    const all = [...products.values()];
    const online = all.filter((p) => p.purchasable);
    const lowest = cheapest(online);
    statusText.textContent = [
      `Karşılaştırma tamamlandı: ${insurerCount(all)} sigorta şirketinden ${all.filter((p) => p.state !== "failed").length} teklif`,
      online.length ? `, ${online.length} tanesi online satın alınabilir.` : ".",
      lowest ? ` En düşük online fiyat ${money(lowest.lowestGrossPremium, currencyOf(lowest))}.` : "",
    ].join("");
    statusText.dataset.complete = "true";
    bar.max = 1;
    bar.value = 1;
    if (extra) setNote(extra, offerRetry ? [h("button", { type: "button", "data-testid": "retry", onclick: follow }, "Tekrar dene")] : []);
  }

  // -- drawing -------------------------------------------------------------------------------
  function draw() {
    const all = order.map((id) => products.get(id)).filter(Boolean);
    if (!complete) {
      const answered = answeredInsurers(all);
      const total = insurerCount(all);
      statusText.textContent = `${answered} / ${total} sigorta şirketi yanıt verdi…`;
      bar.max = Math.max(total, 1);
      bar.value = answered;
    }
    drawLock(all);
    const sections = new Map();
    for (const p of all) {
      const key = p.coverageGroup?.id ?? "none";
      if (!sections.has(key)) sections.set(key, { name: p.coverageGroup?.name ?? "Diğer teklifler", items: [] });
      sections.get(key).items.push(p);
    }
    const wanted = [];
    for (const [key, { name, items }] of sections) {
      let section = groups.querySelector(`:scope > [data-group="${CSS.escape(key)}"]`);
      if (!section) {
        const title = uid("group");
        section = h(
          "section",
          { class: "group", "data-group": key, "data-testid": "group", "aria-labelledby": title },
          h("h2", { id: title }, name),
          h("p", { class: "group-summary", "data-testid": "group-summary" }),
          h("ul", { class: "products" }),
        );
      }
      const online = items.filter((p) => p.purchasable);
      const lowest = cheapest(online);
      section.querySelector(".group-summary").textContent = [
        `${insurerCount(items)} sigorta şirketi`,
        lowest ? `en düşük online fiyat ${money(lowest.lowestGrossPremium, currencyOf(lowest))}` : null,
      ].filter(Boolean).join(" · ");
      section.dataset.insurers = String(insurerCount(items));
      const list = section.querySelector("ul");
      const els = items.map((p) => cardFor(p, p === lowest));
      keepOrder(list, els);
      wanted.push(section);
    }
    keepOrder(groups, wanted);
    drawCompareBar();
  }

  /** The card of a product, rebuilt only when something it shows has changed. */
  function cardFor(product, isLowest) {
    const signature = JSON.stringify([product, isLowest, lockOf(), chosenPlan.get(product.productId), compared.has(product.productId), compared.size, openCoverage.has(product.productId), callBacks.get(product.productId)]);
    const cached = cards.get(product.productId);
    if (cached?.signature === signature) return cached.el;
    const el = productCard(product, isLowest);
    if (cached) {
      // Keep the keyboard where it was: the same control in the new card gets the focus.
      const focused = cached.el.contains(document.activeElement) ? document.activeElement.dataset.focusKey : null;
      cached.el.replaceWith(el);
      if (focused) el.querySelector(`[data-focus-key="${CSS.escape(focused)}"]`)?.focus();
    }
    cards.set(product.productId, { signature, el });
    return el;
  }

  function lockOf() {
    const all = [...products.values()];
    const bought = all.find((p) => p.state === "purchased");
    if (bought) return { kind: "purchased", product: bought };
    const paying = all.find((p) => p.state === "purchasing" || p.notPurchasableReason === "sold");
    return paying ? { kind: "purchasing", product: paying } : null;
  }

  function lockText(lock) {
    const who = lock.product.insurer.name;
    return lock.kind === "purchased"
      ? `Bu tekliften ${who} poliçesi satın alındı.`
      : `Bu teklifte ${who} için bir ödeme sürüyor. Başka bir ürün seçmek için aynı araçla yeni teklif alın.`;
  }

  function drawLock() {
    const current = lockOf();
    lock.hidden = !current;
    if (!current) return;
    if (lock.dataset.kind === current.kind && lock.dataset.product === current.product.productId) return;
    lock.dataset.kind = current.kind;
    lock.dataset.product = current.product.productId;
    const again = h("button", { type: "button", "data-testid": "new-quote" }, "Yeni teklif al");
    again.addEventListener("click", () => freshQuote(again));
    lock.replaceChildren(h("p", {}, lockText(current)), ...(current.kind === "purchasing" ? [again] : []));
  }

  async function freshQuote(button) {
    try {
      await busy(button, async () => {
        const vehicle = vehicleId ?? (await knownVehicle(ctx.query));
        if (!vehicle) return ctx.go("/vehicle");
        ctx.go(await newQuoteFor(vehicle));
      });
    } catch (err) {
      ctx.fail(err);
    }
  }

  /** One insurer product: price, plans and the pay button, or why there is none. */
  function productCard(p, isLowest) {
    const logo = p.insurer.logoUrl
      ? h("img", { src: p.insurer.logoUrl, alt: "", width: 40, height: 40, loading: "lazy", onerror: (e) => e.target.remove() })
      : null;
    const who = `${p.insurer.name}, ${p.coverageGroup?.name ?? p.productName ?? ""}`.replace(/, $/, "");
    const robot = p.notPurchasableReason === "robot";
    const price =
      p.lowestGrossPremium !== null && p.state !== "failed"
        ? h(
            "p",
            { class: "price" },
            robot ? h("span", { class: "price-label" }, "Temsilci fiyatı ") : h("span", { class: "price-label" }, "Peşin "),
            money(p.lowestGrossPremium, currencyOf(p)),
          )
        : null;
    return h(
      "li",
      {
        class: `product state-${p.state}${p.purchasable ? "" : " offline"}`,
        "data-testid": "product",
        "data-product-id": p.productId,
        "data-state": p.state,
        "data-purchasable": String(p.purchasable),
        "data-reason": p.notPurchasableReason ?? "",
        "data-methods": p.paymentMethods.join(" "),
        "data-insurer-id": String(p.insurer.id ?? ""),
        "data-group": p.coverageGroup?.name ?? "",
      },
      h(
        "div",
        { class: "insurer" },
        logo,
        h("div", {}, h("h3", {}, p.insurer.name), h("span", { class: "muted" }, p.productName ?? "")),
        price,
      ),
      isLowest ? h("p", { class: "badge", "data-testid": "lowest" }, "Bu paketteki en düşük online fiyat") : null,
      body(p, who),
      p.state === "active" ? extras(p, who) : null,
    );
  }

  function body(p, who) {
    switch (p.state) {
      case "waiting":
        return h("p", { class: "muted" }, h("span", { class: "spinner", "aria-hidden": "true" }), " Fiyat bekleniyor…");
      case "failed": {
        const again = h("button", { type: "button", "data-testid": "retry-product", "data-focus-key": "retry" }, "Tekrar sor", h("span", { class: "sr-only" }, ` (${who})`));
        again.addEventListener("click", () => retryProduct(p, again));
        return h(
          "div",
          { class: "reason", "data-testid": "not-purchasable" },
          h("p", {}, looksTurkish(p.errorMessage) ? `Teklif verilemedi: ${p.errorMessage}` : NOT_PURCHASABLE.failed),
          again,
        );
      }
      case "purchasing":
        return h("p", { class: "reason", "data-testid": "not-purchasable" }, "Bu ürün için ödeme sürüyor.");
      case "purchased":
        return h("p", { class: "reason ok", "data-testid": "not-purchasable" }, "Bu ürün satın alındı.");
    }
    if (!p.purchasable) return offline(p, who);
    const current = lockOf();
    const reasonId = uid("why");
    const buy = h(
      "button",
      {
        type: "button",
        class: "primary",
        "data-testid": "buy",
        "data-focus-key": "buy",
        disabled: Boolean(current),
        "aria-describedby": current ? reasonId : null,
      },
      "Satın al",
      h("span", { class: "sr-only" }, ` (${who})`),
    );
    buy.addEventListener("click", () => {
      const params = new URLSearchParams({ installment: String(chosenPlan.get(p.productId)) });
      if (vehicleId) params.set("vehicle", vehicleId);
      ctx.go(`/pay/${q}/${encodeURIComponent(p.productId)}?${params}`);
    });
    if (!chosenPlan.has(p.productId)) chosenPlan.set(p.productId, p.premiums[0]?.installmentNumber);
    const plans = h(
      "fieldset",
      { class: "plans", disabled: Boolean(current) },
      h("legend", {}, "Ödeme planı", h("span", { class: "sr-only" }, ` (${who})`)),
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
            "data-focus-key": `plan-${n}`,
            onchange: () => chosenPlan.set(p.productId, n),
          }),
          `${planLabel(n)}: ${money(premium.grossPremium, premium.currency)}${each}`,
        );
      }),
    );
    return h(
      "div",
      {},
      plans,
      current ? h("p", { class: "reason", id: reasonId, "data-testid": "buy-disabled-reason" }, lockText(current)) : null,
      buy,
    );
  }

  /** Priced, but not sold online: why, and (robots, agent-only products) a call-back. */
  function offline(p, who) {
    const reason = p.notPurchasableReason ?? "not_sold_online";
    const box = h("div", { class: "reason", "data-testid": "not-purchasable" }, h("p", {}, NOT_PURCHASABLE[reason] ?? NOT_PURCHASABLE.not_sold_online));
    if (reason === "robot" || reason === "not_sold_online") {
      const state = callBacks.get(p.productId);
      if (state === "sent") {
        box.append(h("p", { class: "ok", "data-testid": "call-back-sent", role: "status" }, "Talebiniz alındı: temsilcimiz sizi en kısa sürede arayacak."));
      } else if (state === "unavailable") {
        box.append(h("p", { "data-testid": "call-back-unavailable", role: "status" }, "Geri arama talebi şu an alınamıyor. Lütfen müşteri hizmetlerimizi arayın."));
      } else {
        const call = h("button", { type: "button", "data-testid": "call-me-back", "data-focus-key": "call" }, "Beni arayın", h("span", { class: "sr-only" }, ` (${who})`));
        call.addEventListener("click", () => askCallBack(p, call));
        box.append(call);
      }
    }
    return box;
  }

  async function askCallBack(p, button) {
    try {
      await busy(button, () => api.post(`/quotes/${q}/products/${encodeURIComponent(p.productId)}/callback-request`));
      callBacks.set(p.productId, "sent");
    } catch (err) {
      // 404 from a gateway that does not have the endpoint yet, or 405: not available here.
      if (err.status !== 404 && err.status !== 405) return ctx.fail(err);
      callBacks.set(p.productId, "unavailable");
    }
    draw();
  }

  async function retryProduct(p, button) {
    try {
      await busy(button, () => api.post(`/quotes/${q}/products/${encodeURIComponent(p.productId)}/retry`));
      products.set(p.productId, { ...p, state: "waiting", errorMessage: null });
      draw();
      if (complete) follow();
    } catch (err) {
      ctx.fail(err);
    }
  }

  /** Coverage lines on demand, and the compare check box: for every priced product. */
  function extras(p, who) {
    const open = openCoverage.has(p.productId);
    const regionId = `coverage-${p.productId}`;
    const toggle = h(
      "button",
      { type: "button", class: "link-button", "aria-expanded": String(open), "aria-controls": regionId, "data-testid": "coverage-toggle", "data-focus-key": "coverage" },
      open ? "Teminatları gizle" : "Teminatları göster",
      h("span", { class: "sr-only" }, ` (${who})`),
    );
    const region = h("div", { id: regionId, class: "coverage", "data-testid": "coverage", hidden: !open });
    toggle.addEventListener("click", () => {
      if (openCoverage.has(p.productId)) openCoverage.delete(p.productId);
      else openCoverage.add(p.productId);
      draw();
    });
    if (open) fillCoverage(region, p);
    const checked = compared.has(p.productId);
    const full = !checked && compared.size >= MAX_COMPARE;
    const check = h("input", {
      type: "checkbox",
      checked,
      disabled: full,
      "data-testid": "compare-check",
      "data-focus-key": "compare",
      onchange: (e) => {
        if (e.target.checked) compared.add(p.productId);
        else compared.delete(p.productId);
        draw();
      },
    });
    return h(
      "div",
      { class: "extras" },
      h("div", { class: "extras-row" }, toggle, h("label", { class: "compare-check" }, check, "Karşılaştır", h("span", { class: "sr-only" }, ` (${who})`))),
      region,
    );
  }

  function coverageOf(productId) {
    if (!coverage.has(productId)) {
      const loading = api.get(`/quotes/${q}/products/${encodeURIComponent(productId)}/coverage`);
      loading.catch(() => coverage.delete(productId)); // a failed load is asked again next time
      coverage.set(productId, loading);
    }
    return coverage.get(productId);
  }

  async function fillCoverage(region, p) {
    region.replaceChildren(h("p", { class: "muted" }, h("span", { class: "spinner", "aria-hidden": "true" }), " Teminatlar yükleniyor…"));
    try {
      const lines = mainLines(await coverageOf(p.productId));
      region.replaceChildren(
        h("dl", { class: "lines" }, ...lines.map(([name, value]) => h("div", {}, h("dt", {}, name), h("dd", {}, value)))),
      );
    } catch (err) {
      if (err?.needsSignIn) return ctx.fail(err);
      region.replaceChildren(h("p", {}, "Teminat bilgileri şu an alınamadı."));
    }
  }

  // -- side-by-side comparison ---------------------------------------------------------------
  function drawCompareBar() {
    compareBar.hidden = compared.size === 0;
    compareCount.textContent = `${compared.size} teklif seçildi${compared.size < 2 ? " (en az 2, en çok 3)" : ""}`;
    compareButton.disabled = compared.size < 2;
  }

  clearButton.addEventListener("click", () => {
    compared.clear();
    compareBox.hidden = true;
    draw();
  });

  compareButton.addEventListener("click", async () => {
    const chosen = [...compared].map((id) => products.get(id)).filter(Boolean);
    try {
      const all = await busy(compareButton, () =>
        withProgress(compareBar, "Teminatlar karşılaştırılıyor…", () => Promise.all(chosen.map((p) => coverageOf(p.productId)))),
      );
      if (!ctx.active) return;
      drawComparison(chosen, all.map(mainLines));
    } catch (err) {
      ctx.fail(err);
    }
  });

  function drawComparison(chosen, lines) {
    const names = [...new Set(lines.flatMap((l) => l.map(([name]) => name)))];
    const value = (i, name) => lines[i].find(([n]) => n === name)?.[1] ?? "–";
    const row = (label, cells) => h("tr", {}, h("th", { scope: "row" }, label), ...cells.map((c) => h("td", {}, c)));
    const table = h(
      "table",
      {},
      h("caption", { class: "sr-only" }, "Seçilen tekliflerin fiyat ve teminat karşılaştırması"),
      h("thead", {}, h("tr", {}, h("td", {}), ...chosen.map((p) => h("th", { scope: "col" }, p.insurer.name)))),
      h(
        "tbody",
        {},
        row("Paket", chosen.map((p) => p.coverageGroup?.name ?? "–")),
        row("Peşin fiyat", chosen.map((p) => money(p.lowestGrossPremium, currencyOf(p)))),
        row("Taksit seçenekleri", chosen.map((p) => p.premiums.map((x) => planLabel(x.installmentNumber)).join(", ") || "–")),
        row("Online satın alma", chosen.map((p) => (p.purchasable ? "Var" : "Temsilci ile"))),
        ...names.map((name) => row(name, chosen.map((_, i) => value(i, name)))),
      ),
    );
    compareBox.replaceChildren(
      h("h2", { id: "compare-title", tabindex: "-1" }, "Karşılaştırma"),
      // Wider than a phone: the table scrolls inside its box, reachable by keyboard.
      h("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": "Karşılaştırma tablosu" }, table),
    );
    compareBox.hidden = false;
    compareBox.querySelector("h2").focus();
  }

  follow();
}

/** The coverage lines a customer compares, in a fixed order, in Turkish. */
function mainLines(productCoverage) {
  const byName = new Map(productCoverage.items.map((item) => [item.name, item]));
  return Object.entries(COVERAGE_LINES)
    .filter(([name]) => byName.has(name))
    .map(([name, label]) => [label, coverageValue(byName.get(name), wholeLira)]);
}

const liras = new Intl.NumberFormat("tr-TR", { style: "currency", currency: "TRY", maximumFractionDigits: 0 });
/** Coverage limits are round sums: "₺1.000.000". */
const wholeLira = (amount) => liras.format(amount);

const insurerKey = (p) => (p.insurer.id ?? p.insurer.name);
const insurerCount = (products) => new Set(products.map(insurerKey)).size;

/** Insurers none of whose products is still waiting for a price. */
function answeredInsurers(products) {
  const waiting = new Set(products.filter((p) => p.state === "waiting").map(insurerKey));
  return [...new Set(products.map(insurerKey))].filter((k) => !waiting.has(k)).length;
}

/** The cheapest product of a list by its lowest gross premium; null when none is priced. */
function cheapest(products) {
  return products
    .filter((p) => typeof p.lowestGrossPremium === "number")
    .reduce((best, p) => (best === null || p.lowestGrossPremium < best.lowestGrossPremium ? p : best), null);
}

const currencyOf = (p) => p.premiums[0]?.currency ?? "TRY";

/** Put `els` into `parent` in this order, moving nothing that is already in place. */
function keepOrder(parent, els) {
  els.forEach((el, i) => {
    if (parent.children[i] !== el) parent.insertBefore(el, parent.children[i] ?? null);
  });
  while (parent.children.length > els.length) parent.lastElementChild.remove();
}
