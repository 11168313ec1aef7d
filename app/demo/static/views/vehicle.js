// Step 2: the car. The plate and registration serial are enough: the lookup shows the car
// so the customer can confirm it, registering fills in what the lookup found (and asks for
// what it could not: `vehicle_details_required` names the fields, with values to pick from),
// and then the quote request goes to every insurer at once. A returning customer can also
// start from a car registered before.

import { api, isProblem } from "../api.js";
import { fieldLabel } from "../messages.js";
import { newQuoteFor } from "../sale.js";
import { busy, clearProblems, field, h, hint, showProblem, withProgress } from "../ui.js";

const FUELS = { GASOLINE: "Benzin", DIESEL: "Dizel", LPG: "LPG", ELECTRIC: "Elektrik", LPG_GASOLINE: "LPG + benzin", HYBRID: "Hibrit" };
const USES = { PRIVATE_CAR: "Hususi otomobil", TAXI: "Taksi", MINIBUS: "Minibüs", PICKUP_TRUCK: "Kamyonet" };
const fuel = (value) => FUELS[value] || value;
const use = (value) => USES[value] || value;

export function render(root, ctx) {
  const lookup = h("button", { type: "submit", class: "primary" }, "Aracı sorgula");
  const found = h("div", { class: "vehicle", "data-testid": "vehicle-facts", hidden: true, "aria-live": "polite" });
  const status = h("div", { class: "status-slot" });
  // What the lookup or the registration could not find, asked of the customer.
  const extra = h("div", { class: "extra", "data-testid": "vehicle-details", hidden: true });
  const form = h(
    "form",
    { class: "card", novalidate: true },
    h("h1", {}, "Aracınız"),
    field("plate", "Plaka", null, {
      autocomplete: "off",
      autocapitalize: "characters",
      spellcheck: "false",
      placeholder: "34 ABC 123",
      maxlength: 12,
      required: true,
    }),
    field("documentSerial", "Ruhsat seri no", "ruhsatın sağ üst köşesinde", {
      autocomplete: "off",
      autocapitalize: "characters",
      spellcheck: "false",
      placeholder: "AB 123456",
      maxlength: 10,
      required: true,
    }),
    lookup,
    status,
    extra,
    found,
    hint("plaka 34ABC123", "ruhsat AB123456"),
  );
  const saved = h("section", { class: "card saved", "data-testid": "saved-vehicles", hidden: true, "aria-labelledby": "saved-title" });

  // A changed plate or serial makes the shown car stale: ask again before quoting.
  form.addEventListener("input", (event) => {
    if (!event.target.closest("[data-field=plate], [data-field=documentSerial]")) return;
    found.hidden = true;
    extra.hidden = true;
    extra.replaceChildren();
    lookup.hidden = false;
  });

  async function doLookup() {
    clearProblems(form);
    const car = { plate: form.plate.value.trim(), documentSerial: form.documentSerial.value.trim() };
    try {
      const facts = await busy(lookup, () =>
        withProgress(status, "Araç bilgileri sorgulanıyor…", () => api.post("/vehicles/lookup", car), { testid: "lookup-progress" }),
      );
      if (ctx.active) showFacts(facts);
    } catch (err) {
      if (isProblem(err, "vehicle_details_required")) return needDetails(car, err);
      const retry = h("button", { type: "button", onclick: doLookup, "data-testid": "retry" }, "Tekrar dene");
      ctx.fail(err, form, isRetryable(err) ? [retry] : []);
    }
  }

  // Enter in any input does the next step: look up, or register with the details asked for.
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const next = extra.hidden ? null : extra.querySelector("[data-testid=register-with-details]");
    if (next) return next.click();
    if (!found.hidden) return found.querySelector("button")?.click();
    doLookup();
  });

  /** Register the car (with what the customer filled in) and ask every insurer. */
  async function registerAndQuote(car, button) {
    clearProblems(form);
    try {
      await busy(button, () =>
        withProgress(
          status,
          "Aracınız kaydediliyor ve sigorta şirketlerine soruluyor…",
          async () => {
            const vehicle = await registerOrReuse({ ...car, ...details(extra) });
            ctx.go(await newQuoteFor(vehicle.id));
          },
          { testid: "quote-progress" },
        ),
      );
    } catch (err) {
      if (isProblem(err, "vehicle_details_required")) return needDetails(car, err, button);
      const retry = h("button", { type: "button", onclick: () => button.click() }, "Tekrar dene");
      ctx.fail(err, form, isRetryable(err) ? [retry] : []);
    }
  }

  /** `vehicle_details_required` (lookup or registration): ask for the fields it names. */
  function needDetails(car, err, button) {
    askDetails(extra, err);
    extra.hidden = false;
    if (!button) {
      // From the lookup: nothing to confirm yet; register with the answers.
      const go = h("button", { type: "button", class: "primary", "data-testid": "register-with-details" }, "Bilgileri kaydet ve teklifleri getir");
      go.addEventListener("click", () => registerAndQuote(car, go));
      extra.append(go);
      lookup.hidden = true;
    }
    showProblem(form, err); // the messages land under the new inputs
  }

  function showFacts(facts) {
    const quote = h("button", { type: "button", class: "primary" }, "Teklifleri getir");
    // The gateway's normalised plate/serial, so the registration matches the lookup.
    quote.addEventListener("click", () => registerAndQuote({ plate: facts.plate, documentSerial: facts.documentSerial }, quote));
    found.replaceChildren(
      h("p", { class: "car" }, h("strong", {}, `${facts.brand?.name ?? "Araç"} ${facts.model?.name ?? ""}`), ` ${facts.modelYear ?? ""}`),
      h("p", { class: "muted" }, [facts.plate, fuel(facts.fuelType), use(facts.utilizationStyle)].filter(Boolean).join(" · ")),
      quote,
    );
    found.hidden = false;
    lookup.hidden = true;
    quote.focus();
  }

  async function showSaved() {
    let mine = [];
    try {
      mine = await api.get("/vehicles");
    } catch {
      return; // a convenience: the lookup form works without it
    }
    if (!ctx.active || !mine.length) return;
    saved.replaceChildren(
      h("h2", { id: "saved-title" }, "Kayıtlı araçlarınız"),
      h(
        "ul",
        { class: "plain" },
        ...mine.map((v) => {
          const again = h("button", { type: "button", "data-testid": "quote-saved" }, `${v.plate} için teklif al`);
          again.addEventListener("click", async () => {
            try {
              await busy(again, async () => ctx.go(await newQuoteFor(v.id)));
            } catch (err) {
              ctx.fail(err);
            }
          });
          return h("li", {}, h("span", {}, `${v.brand?.name ?? ""} ${v.model?.name ?? ""} ${v.modelYear ?? ""}`.trim() || v.plate), again);
        }),
      ),
    );
    saved.hidden = false;
  }

  root.append(form, saved);
  form.plate.focus();
  showSaved();
}

/** Worth trying the same again: InsurUp was slow, busy or unreachable, or the network was. */
export const isRetryable = (err) => err?.status === 0 || err?.status >= 500 || err?.code === "request_in_progress";

/**
 * What the lookup could not find: one input per field the problem names, a list to pick from
 * where the problem offers `choices`.
 */
function askDetails(box, err) {
  const choices = err.problem.choices ?? {};
  const fields = err.errors.map(({ field: name }) => {
    const options = choices[name]?.map((c) => [c.reference, c.name]) ??
      (name === "fuelType" ? Object.entries(FUELS) : name === "utilizationStyle" ? Object.entries(USES) : null);
    if (options) {
      return field(name, fieldLabel(name), null, {
        tag: "select",
        options: [h("option", { value: "" }, "Seçin"), ...options.map(([value, text]) => h("option", { value }, text))],
      });
    }
    return field(name, fieldLabel(name), null, name === "modelYear" ? { inputmode: "numeric", maxlength: 4 } : {});
  });
  box.replaceChildren(h("p", {}, "Aracınızın bazı bilgilerini bulamadık; lütfen seçin:"), ...fields);
}

function details(box) {
  const answer = {};
  for (const control of box.querySelectorAll("input, select")) {
    const name = control.closest("[data-field]").dataset.field;
    if (!control.value) continue;
    answer[name] = name === "modelYear" ? Number(control.value) : control.value;
  }
  return answer;
}

/**
 * Register the car, or reuse it when this customer registered it before (InsurUp answers
 * 409 to a second registration of the same plate: a returning customer, a second quote).
 */
async function registerOrReuse(car) {
  try {
    return await api.post("/vehicles", car);
  } catch (err) {
    if (err.status !== 409) throw err;
    const mine = await api.get("/vehicles");
    const same = mine.find((v) => v.plate === car.plate);
    if (!same) throw err;
    return same;
  }
}
