// The one place that talks to the gateway. Copy this module as it is into any frontend:
// every view calls `api.get/post/del` and gets JSON back or an ApiError thrown.

// Same origin as the page. A SPA on another origin would put the gateway's URL here
// (and the gateway must list that origin in BFF_ALLOWED_ORIGINS).
export const API_BASE = "/api/v1";

// Unsafe methods must carry X-CSRF: 1 (a cross-site form cannot set a custom header).
const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** A problem+json answer, or a network failure, as one Error type the views can switch on. */
export class ApiError extends Error {
  constructor({ status = 0, code = "network_error", detail, title, errors = [], requestId, retryAfter }) {
    super(detail || title || code);
    this.name = "ApiError";
    this.status = status; // HTTP status, 0 when the request never got an answer
    this.code = code; // stable machine-readable code: switch on this, not on the text
    this.detail = detail || title || code; // human-readable, safe to show
    this.errors = errors || []; // [{field, message}] for field validation
    this.requestId = requestId; // quote it when reporting a problem
    this.retryAfter = retryAfter; // seconds, on 429 / 503
  }

  /** Sign-in needed again (no session, or InsurUp ended it). */
  get needsSignIn() {
    return this.status === 401;
  }
}

/**
 * fetch + JSON + errors. `body` is sent as JSON; `headers` adds to the defaults.
 * Resolves to the parsed JSON body, or null for an empty answer (204).
 */
export async function request(method, path, { body, headers = {}, signal } = {}) {
  const init = {
    method,
    // The session is an HttpOnly cookie: the browser must send it (and accept a new one).
    credentials: "include",
    headers: { Accept: "application/json", ...headers },
    signal,
  };
  if (UNSAFE.has(method)) init.headers["X-CSRF"] = "1";
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }

  let response;
  try {
    response = await fetch(API_BASE + path, init);
  } catch (err) {
    if (err.name === "AbortError") throw err; // the caller cancelled on purpose
    throw new ApiError({ detail: "Sunucuya ulaşılamadı. Could not reach the server." });
  }

  const text = await response.text();
  const data = text ? safeJson(text) : null;
  if (response.ok) return data;

  // problem+json: {type, title, status, detail, code, requestId, errors[]}
  const problem = data && typeof data === "object" ? data : {};
  throw new ApiError({
    status: response.status,
    code: problem.code || `http_${response.status}`,
    detail: problem.detail,
    title: problem.title || response.statusText,
    errors: problem.errors,
    requestId: problem.requestId || response.headers.get("X-Request-ID"),
    retryAfter: Number(response.headers.get("Retry-After")) || undefined,
  });
}

function safeJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null; // e.g. a proxy's HTML error page: the status still tells what happened
  }
}

export const api = {
  get: (path, options) => request("GET", path, options),
  post: (path, body, options = {}) => request("POST", path, { ...options, body }),
  del: (path, options) => request("DELETE", path, options),
};

/**
 * A fresh Idempotency-Key. crypto.randomUUID exists only in secure contexts (https,
 * localhost, 127.0.0.1); a phone testing the dev server over plain http on the LAN is not
 * one, so fall back to getRandomValues, which works everywhere.
 */
export function newIdempotencyKey() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
