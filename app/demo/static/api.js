// The one place that talks to the gateway. It delegates to the typed client in
// clients/typescript (built into vendor/kasko-client.js by `make client`): cookie session
// (`credentials: "include"`), `X-CSRF: 1` on unsafe methods, problem+json answers thrown as
// one error type. Every view calls `api.get/post/del` and gets JSON back or an ApiError thrown.
// A React app would import the client package itself and call its typed methods instead.

import { GatewayProblem, createGatewayClient, newIdempotencyKey } from "./vendor/kasko-client.js";

// Same origin as the page. A SPA on another origin would pass the gateway's URL as `baseUrl`
// (and the gateway must list that origin in BFF_ALLOWED_ORIGINS).
export const API_BASE = "/api/v1";

const gateway = createGatewayClient();

/**
 * A problem+json answer, or a network failure (`code` "network_error", `status` 0), as one
 * Error type the views can switch on: `status`, `code`, `detail` (safe to show), `errors`
 * ([{field, message}]), `requestId`, `retryAfter` and `needsSignIn` (401: sign in again).
 */
export const ApiError = GatewayProblem;

/**
 * fetch + JSON + errors. `body` is sent as JSON; `headers` adds to the defaults.
 * Resolves to the parsed JSON body, or null for an empty answer (204).
 */
export async function request(method, path, { body, headers, signal } = {}) {
  try {
    const { data } = await gateway.request(method.toLowerCase(), API_BASE + path, { body, headers, signal });
    return data ?? null;
  } catch (err) {
    if (err instanceof GatewayProblem && err.code === "network_error") {
      const detail = "Sunucuya ulaşılamadı. Could not reach the server.";
      throw new GatewayProblem({ ...err.problem, detail }, { cause: err, idempotencyKey: err.idempotencyKey });
    }
    throw err; // a GatewayProblem, or the AbortError of a cancelled call
  }
}

export const api = {
  get: (path, options) => request("GET", path, options),
  post: (path, body, options = {}) => request("POST", path, { ...options, body }),
  del: (path, options) => request("DELETE", path, options),
};

/** A fresh Idempotency-Key: one per quote or purchase attempt (randomUUID where it exists). */
export { newIdempotencyKey };
