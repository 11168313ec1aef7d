// The one place that talks to the gateway. It delegates to the typed client in
// clients/typescript (built into vendor/kasko-client.js by `make client`): cookie session
// (`credentials: "include"`), `X-CSRF: 1` on unsafe methods, problem+json answers thrown as
// one error type, and the quote event stream (Server-Sent Events, polling when the stream
// breaks). Every view calls `api.get/post/del` and gets JSON back or a GatewayProblem thrown;
// what the customer reads about a problem comes from messages.js, never from the answer.
// A React app would import the client package itself and call its typed methods instead.

import { GatewayProblem, createGatewayClient, isProblem, newIdempotencyKey } from "./vendor/kasko-client.js";

// Same origin as the page. A SPA on another origin would pass the gateway's URL as `baseUrl`
// (and the gateway must list that origin in BFF_ALLOWED_ORIGINS).
export const API_BASE = "/api/v1";

const gateway = createGatewayClient();

/**
 * A problem+json answer, or a network failure (`code` "network_error", `status` 0), as one
 * Error type the views can switch on: `status`, `code`, `errors` ([{field, message}]),
 * `requestId`, `retryAfter`, `needsSignIn` (401: sign in again) and, for
 * `payment_in_progress`, `problem.paymentId`.
 */
export const ApiError = GatewayProblem;
export { isProblem };

/**
 * fetch + JSON + errors. `body` is sent as JSON; `headers` adds to the defaults.
 * Resolves to the parsed JSON body, or null for an empty answer (202, 204).
 */
export async function request(method, path, { body, headers, signal } = {}) {
  const { data } = await gateway.request(method.toLowerCase(), API_BASE + path, { body, headers, signal });
  return data ?? null;
}

export const api = {
  get: (path, options) => request("GET", path, options),
  post: (path, body, options = {}) => request("POST", path, { ...options, body }),
  del: (path, options) => request("DELETE", path, options),
};

/**
 * The quote's events (`product`, `complete`, `timeout`, `error`) until it is complete:
 * Server-Sent Events, or polling where the stream fails (`onTransport` says which).
 */
export const quoteEvents = (quoteId, options) => gateway.quoteEvents(quoteId, options);

/** Paths of the API the browser opens itself (PDFs), with the session cookie. */
export const paths = {
  informationForm: (quoteId, productId) =>
    `${API_BASE}/quotes/${encodeURIComponent(quoteId)}/products/${encodeURIComponent(productId)}/information-form`,
  policyDocument: (policyId) => `${API_BASE}/policies/${encodeURIComponent(policyId)}/document`,
};

/** A fresh Idempotency-Key: one per quote or purchase attempt (randomUUID where it exists). */
export { newIdempotencyKey };
