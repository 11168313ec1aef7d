// The hand-written layer on its own, with a stub fetch: no gateway needed.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

import {
  type EventSourceConstructor,
  GatewayProblem,
  type KnownProblem,
  PROBLEM_CODES,
  createGatewayClient,
  isProblem,
  newIdempotencyKey,
} from "../src/index.js";
import { repoRoot } from "./support.js";

// The browser's EventSource is one the client accepts (checked by tsc, not at run time).
export type BrowserEventSourceFits = typeof EventSource extends EventSourceConstructor ? true : never;
const fits: BrowserEventSourceFits = true;
void fits;

const KEY_PATTERN = /^[A-Za-z0-9_.:-]{8,64}$/;

function stub(answer: (request: Request) => Response | Promise<Response>): { fetch: (request: Request) => Promise<Response>; seen: Request[] } {
  const seen: Request[] = [];
  return {
    seen,
    fetch: async (request) => {
      seen.push(request);
      return answer(request);
    },
  };
}

const json = (body: unknown, status = 200, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });

test("every code the OpenAPI document names is a known problem code", () => {
  const spec = JSON.parse(readFileSync(join(repoRoot(), "openapi", "openapi.json"), "utf8")) as {
    paths: Record<string, Record<string, { responses?: Record<string, { description?: string }> }>>;
  };
  const named = new Set<string>();
  for (const operations of Object.values(spec.paths)) {
    for (const operation of Object.values(operations)) {
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        if (!/^[45]/.test(status)) continue;
        for (const match of (response.description ?? "").matchAll(/`([a-z_]+)`/g)) named.add(match[1] ?? "");
      }
    }
  }
  assert.ok(named.size >= 20);
  const known = new Set<string>(PROBLEM_CODES);
  assert.deepEqual([...named].filter((code) => !known.has(code)), []);
});

test("idempotency keys are fresh and match the gateway's pattern, with or without randomUUID", () => {
  const keys = new Set(Array.from({ length: 100 }, () => newIdempotencyKey()));
  assert.equal(keys.size, 100);
  for (const key of keys) assert.match(key, KEY_PATTERN);

  // An insecure context (plain http on the LAN) has no randomUUID: shadow the inherited one.
  assert.ok(!Object.hasOwn(globalThis.crypto, "randomUUID"));
  Object.defineProperty(globalThis.crypto, "randomUUID", { value: undefined, configurable: true });
  try {
    const key = newIdempotencyKey();
    assert.match(key, KEY_PATTERN);
    assert.match(key, /^[0-9a-f]{32}$/);
  } finally {
    delete (globalThis.crypto as { randomUUID?: unknown }).randomUUID;
  }
  assert.equal(typeof globalThis.crypto.randomUUID, "function");
});

test("a purchase without a key gets a fresh one per call; a given key is kept", async () => {
  const { fetch, seen } = stub(() => json({ paymentId: "pay1", redirectUrl: "https://bank.example/3ds", status: "pending" }, 201));
  const gateway = createGatewayClient({ baseUrl: "https://gw.example", fetch });
  const path = { quoteId: "q1", productId: "p1" };
  const body = { installmentNumber: 1, method: "3d-secure" as const };
  await gateway.POST("/api/v1/quotes/{quoteId}/products/{productId}/purchase", { params: { path }, body });
  await gateway.POST("/api/v1/quotes/{quoteId}/products/{productId}/purchase", { params: { path }, body });
  const header = { "Idempotency-Key": "attempt-0001" };
  await gateway.POST("/api/v1/quotes/{quoteId}/products/{productId}/purchase", { params: { path, header }, body });
  const keys = seen.map((r) => r.headers.get("Idempotency-Key"));
  assert.match(keys[0] ?? "", KEY_PATTERN);
  assert.match(keys[1] ?? "", KEY_PATTERN);
  assert.notEqual(keys[0], keys[1]);
  assert.equal(keys[2], "attempt-0001");
  assert.equal(seen[0]?.headers.get("X-CSRF"), "1");
  assert.equal(seen[0]?.credentials, "include");
});

test("problems are thrown as GatewayProblem, switchable on code", async () => {
  const { fetch } = stub(() =>
    json(
      {
        type: "https://kasko-gateway.dev/problems/rate-limited",
        title: "Too many attempts",
        status: 429,
        detail: "Too many attempts; try again later",
        code: "rate_limited",
        requestId: "r1",
      },
      429,
      { "Content-Type": "application/problem+json", "Retry-After": "30" },
    ),
  );
  const gateway = createGatewayClient({ baseUrl: "https://gw.example", fetch });
  const err = await gateway.POST("/api/v1/session/mfa", { body: { code: "123456" } }).catch((e: unknown) => e);
  assert.ok(err instanceof GatewayProblem);
  assert.equal(err.retryAfter, 30);
  assert.equal(err.message, "Too many attempts; try again later");
  let said = "";
  const problem = err.known; // undefined for a code this client does not know
  switch (problem?.code) {
    case "rate_limited":
      said = `wait ${err.retryAfter ?? "?"} s (${problem.requestId})`;
      break;
    case "validation_failed":
      said = problem.errors.map((e) => e.field).join(); // errors: ProblemField[], no null
      break;
    default:
      said = "other";
  }
  assert.equal(said, "wait 30 s (r1)");
  // Exhaustive over the known codes: adding one to PROBLEM_CODES without handling it here
  // would not compile.
  const known = (p: KnownProblem): string => (p.code === "not_found" ? "missing" : p.code);
  assert.equal(known({ ...err.problem, code: "not_found" }), "missing");
});

test("an answer that is not problem+json, a network failure, and an abort", async () => {
  const html = createGatewayClient({
    baseUrl: "https://gw.example",
    fetch: stub(() => new Response("<html>Bad gateway</html>", { status: 502, statusText: "Bad Gateway", headers: { "X-Request-ID": "r2" } })).fetch,
  });
  const err = await html.GET("/api/v1/session").catch((e: unknown) => e);
  assert.ok(isProblem(err));
  assert.equal(err.code, "http_502");
  assert.equal(err.status, 502);
  assert.equal(err.requestId, "r2");
  assert.equal(err.detail, "Bad Gateway");

  const offline = createGatewayClient({
    baseUrl: "https://gw.example",
    fetch: () => Promise.reject(new TypeError("fetch failed")),
  });
  const down = await offline
    .POST("/api/v1/quotes", { body: { vehicleId: "v1" }, params: { header: { "Idempotency-Key": "attempt-0002" } } })
    .catch((e: unknown) => e);
  assert.ok(isProblem(down, "network_error"), String(down));
  assert.equal(down.status, 0);
  assert.equal(down.idempotencyKey, "attempt-0002", "the key to retry the same attempt with");
  assert.ok(down.cause instanceof TypeError);

  const aborter = new AbortController();
  const slow = createGatewayClient({
    baseUrl: "https://gw.example",
    fetch: (request) =>
      new Promise((_, reject) => {
        if (request.signal.aborted) reject(request.signal.reason); // as fetch does
        request.signal.addEventListener("abort", () => reject(request.signal.reason));
      }),
  });
  const pending = slow.GET("/api/v1/session", { signal: aborter.signal }).catch((e: unknown) => e);
  aborter.abort();
  const aborted = await pending;
  assert.ok(aborted instanceof Error && aborted.name === "AbortError", String(aborted));
  assert.ok(!(aborted instanceof GatewayProblem));
});
