// Step 2: the car. The plate and registration serial are enough: the lookup shows the car
// so the customer can confirm it, registering fills in what the lookup found, and then
// the quote request goes to every insurer at once.

import { api, newIdempotencyKey } from "../api.js";
import { busy, clearProblems, field, h, hint } from "../ui.js";

export function render(root, ctx) {
  const lookup = h("button", { type: "submit", class: "primary" }, "Aracı sorgula ", h("small", {}, "Look up"));
  const found = h("div", { class: "vehicle", "data-testid": "vehicle-facts", hidden: true });
  const form = h(
    "form",
    { class: "card", novalidate: true },
    h("h1", {}, "Aracınız ", h("small", {}, "Your car")),
    field("plate", "Plaka", "Plate", {
      autocomplete: "off",
      autocapitalize: "characters",
      spellcheck: "false",
      placeholder: "34 ABC 123",
      maxlength: 12,
      required: true,
    }),
    field("documentSerial", "Ruhsat seri no", "Registration serial", {
      autocomplete: "off",
      autocapitalize: "characters",
      spellcheck: "false",
      placeholder: "AB 123456",
      maxlength: 10,
      required: true,
    }),
    lookup,
    found,
    hint("plaka 34ABC123", "ruhsat AB123456"),
  );

  // A changed plate or serial makes the shown car stale: ask again before quoting.
  form.addEventListener("input", () => {
    found.hidden = true;
    lookup.hidden = false;
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearProblems(form);
    const car = { plate: form.plate.value.trim(), documentSerial: form.documentSerial.value.trim() };
    try {
      const facts = await busy(lookup, () => api.post("/vehicles/lookup", car));
      showFacts(facts);
    } catch (err) {
      ctx.fail(err, form);
    }
  });

  function showFacts(facts) {
    const quote = h("button", { type: "button", class: "primary" }, "Teklifleri getir ", h("small", {}, "Get quotes"));
    quote.addEventListener("click", async () => {
      clearProblems(form);
      try {
        await busy(quote, async () => {
          // The gateway's normalised plate/serial, so the registration matches the lookup.
          const vehicle = await registerOrReuse({ plate: facts.plate, documentSerial: facts.documentSerial });
          const { quoteId } = await api.post(
            "/quotes",
            { vehicleId: vehicle.id },
            { headers: { "Idempotency-Key": newIdempotencyKey() } },
          );
          ctx.go(`/quotes/${encodeURIComponent(quoteId)}`);
        });
      } catch (err) {
        ctx.fail(err, form);
      }
    });
    found.replaceChildren(
      h("p", { class: "car" }, h("strong", {}, `${facts.brand?.name ?? "?"} ${facts.model?.name ?? ""}`), ` ${facts.modelYear ?? ""}`),
      h("p", { class: "muted" }, [facts.plate, fuel(facts.fuelType), facts.utilizationStyle === "PRIVATE_CAR" ? "Hususi" : facts.utilizationStyle].filter(Boolean).join(" · ")),
      quote,
    );
    found.hidden = false;
    lookup.hidden = true;
  }

  root.append(form);
  form.plate.focus();
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

const FUELS = { GASOLINE: "Benzin", DIESEL: "Dizel", LPG: "LPG", ELECTRIC: "Elektrik", LPG_GASOLINE: "LPG + benzin", HYBRID: "Hibrit" };
const fuel = (value) => FUELS[value] || value;
