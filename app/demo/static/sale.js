// Steps of the sale more than one view takes: a new quote for the same car, and sending the
// browser to the bank's (or the insurer's) payment page.

import { api, newIdempotencyKey } from "./api.js";

/** The route of a quote's comparison, keeping the car it is for (for "Yeni teklif al"). */
export const quoteRoute = (quoteId, vehicleId) =>
  `/quotes/${encodeURIComponent(quoteId)}${vehicleId ? `?vehicle=${encodeURIComponent(vehicleId)}` : ""}`;

/**
 * Ask every insurer again for the same car (POST /quotes): the way out of a quote whose
 * product is being paid for, or after a failed payment. Resolves to the new quote's route.
 */
export async function newQuoteFor(vehicleId) {
  const { quoteId } = await api.post("/quotes", { vehicleId }, { headers: { "Idempotency-Key": newIdempotencyKey() } });
  return quoteRoute(quoteId, vehicleId);
}

/**
 * The car a quote is for. Routes carry it (`?vehicle=`); a page reached without it (the bank
 * sends the customer back to the result view) asks GET /vehicles, and a customer with exactly
 * one car needs no choice. Null: let the customer pick on the vehicle view.
 */
export async function knownVehicle(query) {
  const given = query.get("vehicle");
  if (given) return given;
  try {
    const mine = await api.get("/vehicles");
    return mine.length === 1 ? mine[0].id : null;
  } catch {
    return null;
  }
}

/**
 * Send the browser to pay. `redirect.method` POST (3-D Secure pages): a real form post of
 * `fields` to `url`, made of DOM nodes and submitted by this module (no inline script: the
 * page's Content-Security-Policy forbids it). GET: a plain navigation.
 */
export function goToPayment(redirect) {
  if (redirect.method === "POST") {
    const form = document.createElement("form");
    form.method = "post";
    form.action = redirect.url;
    form.hidden = true;
    form.dataset.testid = "payment-form-post";
    for (const [name, value] of Object.entries(redirect.fields ?? {})) {
      const input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = value;
      form.append(input);
    }
    document.body.append(form);
    form.submit();
    return;
  }
  window.location.assign(redirect.url);
}
