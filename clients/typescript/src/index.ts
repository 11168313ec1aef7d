// A typed client for the kasko sales gateway.
//
// Everything the OpenAPI document says (paths, parameters, bodies, answers) comes from the
// generated `schema.d.ts` through openapi-fetch. This file adds only what the document cannot
// say: how a browser or a mobile app carries the session, a fresh Idempotency-Key per quote or
// purchase attempt, problem+json answers thrown as one typed error, and the quote event stream.

import createClient, { type Client, type Middleware } from "openapi-fetch";
import type { components, operations, paths } from "./schema.js";

export type { components, operations, paths };

type Schemas = components["schemas"];
export type SessionRead = Schemas["SessionRead"];
export type LoginPending = Schemas["LoginPending"];
export type VehicleFacts = Schemas["VehicleFacts"];
export type VehicleRead = Schemas["VehicleRead"];
export type Quote = Schemas["QuoteRead"];
export type Product = Schemas["ProductRead"];
export type PaymentStarted = Schemas["PaymentStarted"];
export type Payment = Schemas["PaymentRead"];
export type Policy = Schemas["PolicyRead"];
export type ProblemField = Schemas["ProblemField"];
export type Consent = Schemas["ConsentRead"];
export type PaymentRedirect = Schemas["Redirect"];
export type ProductCoverage = Schemas["ProductCoverage"];

// ---------------------------------------------------------------------------------------------
// Errors

/** Every `code` the gateway answers with (README's error table, app/errors.py). */
export const PROBLEM_CODES = [
  "validation_failed",
  "not_authenticated",
  "session_expired",
  "csrf_required",
  "origin_not_allowed",
  "rate_limited",
  "payload_too_large",
  "mfa_invalid",
  "mfa_not_pending",
  "not_found",
  "vehicle_not_found",
  "vehicle_details_required",
  "idempotency_key_required",
  "idempotency_key_reused",
  "request_in_progress",
  "product_not_purchasable",
  "payment_method_not_supported",
  "payment_in_progress",
  "information_form_required",
  "webhook_signature_invalid",
  "upstream_rejected",
  "upstream_error",
  "upstream_timeout",
  "upstream_unavailable",
  "store_unavailable",
  "internal_error",
] as const;

export type ProblemCode = (typeof PROBLEM_CODES)[number];
const KNOWN = new Set<string>([...PROBLEM_CODES, "network_error"]);
/** The codes whose problem always names the fields in `errors`. */
export type FieldProblemCode = "validation_failed" | "vehicle_details_required";

type ProblemBase = Omit<Schemas["Problem"], "code">;

/** One known problem; `errors` is always there for the field codes. */
export type ProblemOf<C extends ProblemCode> = C extends FieldProblemCode
  ? ProblemBase & { code: C; errors: ProblemField[] }
  : ProblemBase & { code: C };

/** The gateway's problems as a discriminated union on `code`. */
export type KnownProblem = { [C in ProblemCode]: ProblemOf<C> }[ProblemCode];

/** No answer at all (offline, DNS, CORS refusal): made by this client, `status` 0. */
export type NetworkProblem = ProblemBase & { code: "network_error"; status: 0 };

/**
 * Anything else: a code newer than this client, the framework's `method_not_allowed`, or
 * `http_<status>` for an answer that was not problem+json (a proxy's HTML error page).
 */
export type OtherProblem = ProblemBase & { code: string };

export type Problem = KnownProblem | NetworkProblem | OtherProblem;

/** What the client throws for every failed call (AbortError excepted). */
export class GatewayProblem<P extends Problem = Problem> extends Error {
  override readonly name = "GatewayProblem";
  /** The problem+json body (or one made up for a network failure / non-problem answer). */
  readonly problem: P;
  /** The HTTP answer, when there was one. */
  readonly response: Response | undefined;
  /** Seconds to wait, from `Retry-After` (429, some 503). */
  readonly retryAfter: number | undefined;
  /** The Idempotency-Key the failed request carried: send it again to retry that attempt. */
  readonly idempotencyKey: string | undefined;

  constructor(
    problem: P,
    init: { response?: Response; retryAfter?: number; idempotencyKey?: string; cause?: unknown } = {},
  ) {
    super(problem.detail || problem.title || problem.code, { cause: init.cause });
    this.problem = problem;
    this.response = init.response;
    this.retryAfter = init.retryAfter;
    this.idempotencyKey = init.idempotencyKey;
  }

  get code(): P["code"] {
    return this.problem.code;
  }
  get status(): number {
    return this.problem.status;
  }
  get title(): string {
    return this.problem.title;
  }
  /** Human-readable and safe to show. */
  get detail(): string {
    return this.problem.detail || this.problem.title || this.problem.code;
  }
  /** Quote it when reporting a problem. */
  get requestId(): string {
    return this.problem.requestId;
  }
  /** `[{field, message}]`; `field` is the API's name of the input ("card.number"). */
  get errors(): readonly ProblemField[] {
    return this.problem.errors ?? [];
  }
  /**
   * The problem when its code is one this client knows, else undefined: `switch
   * (err.known?.code)` narrows each case to its own shape (`errors` for validation_failed).
   */
  get known(): KnownProblem | NetworkProblem | undefined {
    const problem: Problem = this.problem;
    return KNOWN.has(problem.code) ? (problem as KnownProblem | NetworkProblem) : undefined;
  }
  /** No session, or InsurUp ended it: sign in again. */
  get needsSignIn(): boolean {
    return this.problem.status === 401;
  }
}

/** `catch (e) { if (isProblem(e, "mfa_invalid")) ... }`: narrows `e.problem` to that code. */
export function isProblem(error: unknown): error is GatewayProblem;
export function isProblem<C extends ProblemCode>(
  error: unknown,
  ...codes: [C, ...C[]]
): error is GatewayProblem<ProblemOf<C>>;
export function isProblem(error: unknown, code: "network_error"): error is GatewayProblem<NetworkProblem>;
export function isProblem(error: unknown, ...codes: string[]): boolean {
  return error instanceof GatewayProblem && (codes.length === 0 || codes.includes(error.code));
}

function problemOf(response: Response, body: unknown): Problem {
  const requestId = response.headers.get("X-Request-ID") ?? "";
  if (isRecord(body) && typeof body["code"] === "string") {
    const title = typeof body["title"] === "string" ? body["title"] : response.statusText;
    return {
      ...body,
      type: typeof body["type"] === "string" ? body["type"] : "about:blank",
      title,
      status: response.status,
      detail: typeof body["detail"] === "string" ? body["detail"] : title,
      code: body["code"],
      requestId: typeof body["requestId"] === "string" ? body["requestId"] : requestId,
      errors: Array.isArray(body["errors"]) ? body["errors"].filter(isProblemField) : [],
    };
  }
  const title = response.statusText || "Request failed";
  const code = `http_${response.status}`;
  return { type: "about:blank", title, status: response.status, detail: title, code, requestId, errors: [] };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isProblemField(value: unknown): value is ProblemField {
  return isRecord(value) && typeof value["field"] === "string" && typeof value["message"] === "string";
}

/**
 * The data of a call, whose failure the client has already thrown:
 * `const quote = await unwrap(gateway.GET("/api/v1/quotes/{quoteId}", { params: { path: { quoteId } } }))`.
 */
export async function unwrap<R extends { data?: unknown; error?: unknown; response: Response }>(
  call: Promise<R>,
): Promise<DataOf<R>> {
  const result = await call;
  if (result.error !== undefined || !result.response.ok) {
    throw new GatewayProblem(problemOf(result.response, result.error), { response: result.response });
  }
  return result.data as DataOf<R>;
}

/** The success member's `data` of an openapi-fetch result. */
export type DataOf<R> = R extends { data: infer D } ? D : never;

// ---------------------------------------------------------------------------------------------
// Idempotency keys

/**
 * A fresh Idempotency-Key (matches ^[A-Za-z0-9_.:-]{8,64}$). Make one per quote or purchase
 * attempt and send the same key again when retrying that attempt (timeout, network error,
 * `request_in_progress`): the gateway then does the work once. `crypto.randomUUID` exists only
 * in secure contexts (https, localhost), so plain-http pages fall back to getRandomValues.
 */
export function newIdempotencyKey(): string {
  if (typeof globalThis.crypto.randomUUID === "function") return globalThis.crypto.randomUUID();
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// ---------------------------------------------------------------------------------------------
// The client

/** The part of EventSource the client uses (the browser's satisfies it). */
export interface EventSourceLike {
  addEventListener(type: string, listener: (event: { readonly data?: unknown }) => void): void;
  close(): void;
}
export type EventSourceConstructor = new (url: string, init?: { withCredentials?: boolean }) => EventSourceLike;

export interface GatewayClientOptions {
  /** The gateway's origin, e.g. "https://api.example.com"; "" (default) for the page's own. */
  baseUrl?: string;
  /**
   * `cookie` (browsers, default): `credentials: "include"` and `X-CSRF: 1` on unsafe methods.
   * `bearer` (mobile apps): sign in with `X-Session-Transport: bearer`, then
   * `Authorization: Bearer <sessionToken>`.
   */
  transport?: "cookie" | "bearer";
  /** Bearer: a token kept from an earlier sign-in (e.g. in the device's secure storage). */
  sessionToken?: string | null;
  /** Bearer: called with each new token (sign-in) and with null after signing out. */
  onSessionToken?: (token: string | null) => void;
  /** Another fetch (tests, a cookie jar in Node, React Native's). */
  fetch?: (request: Request) => Promise<Response>;
  /** EventSource for quote events; default the global one. null: always poll. */
  EventSource?: EventSourceConstructor | null;
}

export type QuoteEvent =
  | { type: "product"; product: Product }
  | { type: "complete"; quote: Quote }
  | { type: "timeout"; quoteId: string }
  | { type: "error"; code: string; detail: string };

export type QuoteTransport = "sse" | "polling";

export interface QuoteEventsOptions {
  signal?: AbortSignal;
  /** Polling: time between two reads of the quote (default 2000 ms). */
  pollIntervalMs?: number;
  /** Polling: end with a `timeout` event after this long (default 5 minutes, as the stream). */
  timeoutMs?: number;
  /** Told the transport in use: `sse`, then `polling` if the stream fails or cannot be used. */
  onTransport?: (transport: QuoteTransport) => void;
}

export interface GatewayClient extends Client<paths> {
  /** Bearer transport: the current session token, or null. */
  readonly sessionToken: string | null;
  /**
   * The quote's events until `complete` or `timeout`: `product` whenever a product appears or
   * changes state, `error` for a passing upstream failure. Server-Sent Events where
   * EventSource exists (cookie transport); otherwise, or when the stream breaks, it polls
   * GET /api/v1/quotes/{quoteId}. A problem that ends the session or the quote is thrown.
   */
  quoteEvents(quoteId: string, options?: QuoteEventsOptions): AsyncGenerator<QuoteEvent, void, undefined>;
}

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);
const SIGN_IN = /\/api\/v1\/session(\/mfa)?$/;
const SESSION = /\/api\/v1\/session$/;
const IDEMPOTENT = /\/api\/v1\/quotes(\/[^/]+\/products\/[^/]+\/purchase)?$/;

export function createGatewayClient(options: GatewayClientOptions = {}): GatewayClient {
  const baseUrl = (options.baseUrl ?? "").replace(/\/+$/, "");
  const bearer = options.transport === "bearer";
  let token = options.sessionToken ?? null;
  const setToken = (next: string | null): void => {
    if (next === token) return;
    token = next;
    options.onSessionToken?.(next);
  };

  const client = createClient<paths>({
    baseUrl,
    credentials: bearer ? "omit" : "include",
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });

  const transport: Middleware = {
    onRequest({ request }) {
      const path = new URL(request.url, "http://relative.invalid").pathname;
      if (bearer) {
        if (token) request.headers.set("Authorization", `Bearer ${token}`);
        if (request.method === "POST" && SESSION.test(path)) request.headers.set("X-Session-Transport", "bearer");
      } else if (UNSAFE.has(request.method)) {
        request.headers.set("X-CSRF", "1");
      }
      if (request.method === "POST" && IDEMPOTENT.test(path) && !request.headers.has("Idempotency-Key")) {
        request.headers.set("Idempotency-Key", newIdempotencyKey());
      }
      return request;
    },
    async onResponse({ request, response }) {
      const path = new URL(request.url, "http://relative.invalid").pathname;
      if (!response.ok) {
        const text = await response.clone().text();
        let body: unknown = null;
        try {
          body = text ? JSON.parse(text) : null;
        } catch {
          body = null; // not JSON: the status still says what happened
        }
        const retryAfter = Number(response.headers.get("Retry-After")) || undefined;
        const idempotencyKey = request.headers.get("Idempotency-Key") ?? undefined;
        throw new GatewayProblem(problemOf(response, body), {
          response,
          ...(retryAfter ? { retryAfter } : {}),
          ...(idempotencyKey ? { idempotencyKey } : {}),
        });
      }
      if (bearer && request.method === "POST" && SIGN_IN.test(path)) {
        const answer: unknown = await response.clone().json();
        if (isRecord(answer) && typeof answer["sessionToken"] === "string") setToken(answer["sessionToken"]);
      } else if (bearer && request.method === "DELETE" && SESSION.test(path)) {
        setToken(null);
      }
      return response;
    },
    onError({ request, error }) {
      // Cancelled on purpose: the caller gets its own AbortError (or reason) back.
      if (request.signal.aborted || (error instanceof Error && error.name === "AbortError")) return undefined;
      const idempotencyKey = request.headers.get("Idempotency-Key") ?? undefined;
      const problem: NetworkProblem = {
        type: "about:blank",
        title: "Network error",
        status: 0,
        detail: "The gateway could not be reached",
        code: "network_error",
        requestId: "",
      };
      return new GatewayProblem(problem, { cause: error, ...(idempotencyKey ? { idempotencyKey } : {}) });
    },
  };
  client.use(transport);

  const globalSource = (globalThis as { EventSource?: EventSourceConstructor }).EventSource;
  const Source = options.EventSource === undefined ? globalSource : options.EventSource;
  // EventSource cannot send an Authorization header: bearer sessions poll.
  const streamWith = bearer ? undefined : (Source ?? undefined);

  async function* quoteEvents(quoteId: string, opts: QuoteEventsOptions = {}): AsyncGenerator<QuoteEvent, void, undefined> {
    const seen = new Map<string, string>();
    opts.signal?.throwIfAborted();
    if (streamWith) {
      opts.onTransport?.("sse");
      const url = `${baseUrl}/api/v1/quotes/${encodeURIComponent(quoteId)}/events`;
      const finished = yield* streamed(new streamWith(url, { withCredentials: true }), seen, opts.signal);
      if (finished) return;
    }
    opts.onTransport?.("polling");
    yield* polled(quoteId, seen, opts);
  }

  async function* polled(
    quoteId: string,
    seen: Map<string, string>,
    opts: QuoteEventsOptions,
  ): AsyncGenerator<QuoteEvent, void, undefined> {
    const interval = opts.pollIntervalMs ?? 2000;
    const deadline = Date.now() + (opts.timeoutMs ?? 5 * 60 * 1000);
    for (;;) {
      let quote: Quote | undefined;
      try {
        ({ data: quote } = await client.GET("/api/v1/quotes/{quoteId}", {
          params: { path: { quoteId } },
          ...(opts.signal ? { signal: opts.signal } : {}),
        }));
      } catch (err) {
        // A passing failure (InsurUp slow or down, the network): say so and keep polling,
        // as the stream does. Anything else (signed out, no such quote) ends the events.
        if (!isProblem(err) || !(err.status === 0 || err.status >= 500)) throw err;
        yield { type: "error", code: err.code, detail: err.detail };
      }
      if (quote) {
        for (const product of quote.products) {
          if (seen.get(product.productId) !== product.state) {
            seen.set(product.productId, product.state);
            yield { type: "product", product };
          }
        }
        if (quote.complete) {
          yield { type: "complete", quote };
          return;
        }
      }
      if (Date.now() + interval > deadline) {
        yield { type: "timeout", quoteId };
        return;
      }
      await sleep(interval, opts.signal);
    }
  }

  return {
    ...client,
    get sessionToken() {
      return token;
    },
    quoteEvents,
  };
}

type Arrival = { kind: "event"; event: QuoteEvent } | { kind: "broken" } | { kind: "aborted" };

/** Events from one EventSource; resolves true when the quote finished, false if the stream broke. */
async function* streamed(
  source: EventSourceLike,
  seen: Map<string, string>,
  signal: AbortSignal | undefined,
): AsyncGenerator<QuoteEvent, boolean, undefined> {
  const queue: Arrival[] = [];
  let wake: (() => void) | undefined;
  const arrive = (arrival: Arrival): void => {
    queue.push(arrival);
    wake?.();
    wake = undefined;
  };
  for (const type of ["product", "complete", "timeout", "error"] as const) {
    source.addEventListener(type, (event) => {
      // A server-sent `error` event carries data; EventSource's own (connection lost,
      // refused, 401) does not.
      if (typeof event.data === "string") arrive({ kind: "event", event: parseEvent(type, event.data) });
      else if (type === "error") arrive({ kind: "broken" });
    });
  }
  const onAbort = (): void => arrive({ kind: "aborted" });
  signal?.addEventListener("abort", onAbort);
  try {
    for (;;) {
      const next = queue.shift();
      if (!next) {
        await new Promise<void>((resolve) => (wake = resolve));
        continue;
      }
      if (next.kind === "aborted") throw signal?.reason;
      if (next.kind === "broken") return false; // do not let EventSource reconnect: poll
      const { event } = next;
      if (event.type === "product") seen.set(event.product.productId, event.product.state);
      yield event;
      if (event.type === "complete" || event.type === "timeout") return true;
    }
  } finally {
    source.close();
    signal?.removeEventListener("abort", onAbort);
  }
}

function parseEvent(type: QuoteEvent["type"], data: string): QuoteEvent {
  const body: unknown = JSON.parse(data);
  switch (type) {
    case "product":
      return { type, product: body as Product };
    case "complete":
      return { type, quote: body as Quote };
    case "timeout":
      return { type, quoteId: isRecord(body) ? String(body["quoteId"]) : "" };
    case "error":
      return {
        type,
        code: isRecord(body) ? String(body["code"]) : "upstream_error",
        detail: isRecord(body) ? String(body["detail"]) : "",
      };
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", done);
      resolve();
    }, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
