// The client against a real gateway with its built-in InsurUp sandbox: a browser-style
// (cookie) sale up to a complete quote, the same over Server-Sent Events, and a mobile-style
// (bearer) session.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  type GatewayClient,
  type ProblemField,
  type QuoteEvent,
  type QuoteTransport,
  type VehicleFacts,
  createGatewayClient,
  isProblem,
  newIdempotencyKey,
  unwrap,
} from "../src/index.js";
import { type Gateway, type Sent, cookieJarFetch, fetchEventSource, startGateway } from "./support.js";

const CUSTOMER = {
  customerType: "individual" as const,
  identityNumber: "11111111110",
  birthDate: "1990-01-01",
  phoneNumber: "+90 532 123 45 67",
  consents: ["KVKK" as const],
};
const SMS_CODE = "123456";
const CAR = { plate: "34ABC123", documentSerial: "AB123456" } as const;

/** The registration body from a lookup's answer (as the demo sends it). */
function registration(facts: VehicleFacts): { plate: string; documentSerial: string } {
  return { plate: facts.plate ?? CAR.plate, documentSerial: facts.documentSerial ?? CAR.documentSerial };
}

/** Rejects with the thrown value, for asserting on a GatewayProblem. */
async function thrown(work: Promise<unknown>): Promise<unknown> {
  try {
    await work;
  } catch (err) {
    return err;
  }
  assert.fail("expected the call to throw");
}

async function signIn(gateway: GatewayClient): Promise<void> {
  const pending = await unwrap(gateway.POST("/api/v1/session", { body: CUSTOMER }));
  assert.equal(pending.status, "mfa_required");
  const session = await unwrap(gateway.POST("/api/v1/session/mfa", { body: { code: SMS_CODE } }));
  assert.equal(session.status, "authenticated");
}

/** Registers the sandbox car (or finds it again) and asks for a quote; returns its id. */
async function quoteForTheCar(gateway: GatewayClient): Promise<string> {
  const facts = await unwrap(gateway.POST("/api/v1/vehicles/lookup", { body: CAR }));
  let vehicleId: string;
  try {
    vehicleId = (await unwrap(gateway.POST("/api/v1/vehicles", { body: registration(facts) }))).id;
  } catch (err) {
    if (!isProblem(err) || err.status !== 409) throw err;
    const mine = await unwrap(gateway.GET("/api/v1/vehicles"));
    const same = mine.find((v) => v.plate === facts.plate);
    assert.ok(same, "a 409 on registration means the car is registered already");
    vehicleId = same.id;
  }
  const created = await unwrap(gateway.POST("/api/v1/quotes", { body: { vehicleId } }));
  return created.quoteId;
}

/** Follows the quote to its end; returns every event and the transports used. */
async function follow(gateway: GatewayClient, quoteId: string): Promise<{ events: QuoteEvent[]; transports: QuoteTransport[] }> {
  const events: QuoteEvent[] = [];
  const transports: QuoteTransport[] = [];
  const signal = AbortSignal.timeout(60_000);
  for await (const event of gateway.quoteEvents(quoteId, { pollIntervalMs: 250, signal, onTransport: (t) => transports.push(t) })) {
    events.push(event);
  }
  return { events, transports };
}

function assertCompleted(events: QuoteEvent[], quoteId: string): void {
  const last = events.at(-1);
  assert.equal(last?.type, "complete", `the events end with complete: ${JSON.stringify(events.map((e) => e.type))}`);
  if (last?.type !== "complete") return;
  assert.equal(last.quote.quoteId, quoteId);
  assert.equal(last.quote.complete, true);
  assert.ok(last.quote.products.length > 0);
  assert.ok(last.quote.products.every((p) => p.state !== "waiting"));
  const announced = new Set(events.flatMap((e) => (e.type === "product" ? [e.product.productId] : [])));
  for (const product of last.quote.products) assert.ok(announced.has(product.productId), `a product event for ${product.productId}`);
}

describe("the client against a real gateway", { timeout: 180_000 }, () => {
  let server: Gateway;

  before(async () => {
    server = await startGateway();
  });
  after(async () => {
    await server?.stop();
  });

  test("browser-style: sign-in with SMS code, car by plate, a quote followed to complete", async () => {
    const sent: Sent[] = [];
    const jar = cookieJarFetch(sent);
    const gateway = createGatewayClient({ baseUrl: server.baseUrl, fetch: jar.fetch });

    // A bad field: validation_failed naming it, thrown as a typed problem.
    const invalid = await thrown(gateway.POST("/api/v1/session", { body: { ...CUSTOMER, identityNumber: "11111111111" } }));
    assert.ok(isProblem(invalid, "validation_failed"), String(invalid));
    const fields: ProblemField[] = invalid.problem.errors; // typed: always there for this code
    assert.deepEqual(fields.map((e) => e.field), ["identityNumber"]);
    assert.equal(invalid.status, 422);
    assert.match(invalid.requestId, /\S/);

    // Not signed in yet: 401, a problem that says to sign in.
    const anonymous = await thrown(gateway.GET("/api/v1/session"));
    assert.ok(isProblem(anonymous, "not_authenticated"));
    assert.equal(anonymous.needsSignIn, true);

    const pending = await unwrap(gateway.POST("/api/v1/session", { body: CUSTOMER }));
    assert.equal(pending.status, "mfa_required");
    assert.equal(pending.sessionToken, undefined, "a cookie session has no token in the body");
    assert.ok(jar.cookies.size === 1, "the gateway set its session cookie");

    const wrong = await thrown(gateway.POST("/api/v1/session/mfa", { body: { code: "000000" } }));
    assert.ok(isProblem(wrong, "mfa_invalid"), String(wrong));
    assert.equal(wrong.problem.code, "mfa_invalid");
    assert.equal(wrong.status, 400);

    const session = await unwrap(gateway.POST("/api/v1/session/mfa", { body: { code: SMS_CODE } }));
    assert.equal(session.status, "authenticated");
    assert.equal(session.customerName, "Ada Y.");
    const again = await unwrap(gateway.GET("/api/v1/session"));
    assert.equal(again.status, "authenticated");

    // The car.
    const facts = await unwrap(gateway.POST("/api/v1/vehicles/lookup", { body: { plate: "34 abc 123", documentSerial: CAR.documentSerial } }));
    assert.equal(facts.plate, "34ABC123");
    const vehicle = await unwrap(gateway.POST("/api/v1/vehicles", { body: registration(facts) }));
    assert.equal(vehicle.plate, "34ABC123");

    // The quote: one key per attempt; the same key again is the same attempt (one quote).
    const key = newIdempotencyKey();
    const attempt = { body: { vehicleId: vehicle.id }, params: { header: { "Idempotency-Key": key } } };
    const first = await unwrap(gateway.POST("/api/v1/quotes", attempt));
    const retried = await unwrap(gateway.POST("/api/v1/quotes", attempt));
    assert.equal(retried.quoteId, first.quoteId);

    // Node has no EventSource: the events come from polling.
    const { events, transports } = await follow(gateway, first.quoteId);
    assert.deepEqual(transports, ["polling"]);
    assertCompleted(events, first.quoteId);

    // What the hand-written layer added to the requests.
    for (const request of sent) {
      assert.equal(request.credentials, "include");
      const unsafe = request.method !== "GET";
      assert.equal(request.headers.get("X-CSRF"), unsafe ? "1" : null, `${request.method} ${request.path}`);
      assert.equal(request.headers.get("Authorization"), null);
    }
    const quoteCalls = sent.filter((r) => r.method === "POST" && r.path === "/api/v1/quotes");
    assert.deepEqual(quoteCalls.map((r) => r.headers.get("Idempotency-Key")), [key, key]);

    // Signing out ends the session and clears the cookie.
    await gateway.DELETE("/api/v1/session");
    assert.equal(jar.cookies.size, 0);
    assert.ok(isProblem(await thrown(gateway.GET("/api/v1/session")), "not_authenticated"));
  });

  test("browser-style: quote events over Server-Sent Events, and polling when the stream breaks", async () => {
    const jar = cookieJarFetch();
    const opened: string[] = [];
    const gateway = createGatewayClient({ baseUrl: server.baseUrl, fetch: jar.fetch, EventSource: fetchEventSource(jar.fetch, opened) });
    await signIn(gateway);

    // A quote without a key of the caller's: the client makes one.
    const quoteId = await quoteForTheCar(gateway);
    const streamed = await follow(gateway, quoteId);
    assert.deepEqual(streamed.transports, ["sse"]);
    assert.deepEqual(opened, [`${server.baseUrl}/api/v1/quotes/${quoteId}/events`]);
    assertCompleted(streamed.events, quoteId);

    // An EventSource that fails at once (a proxy refusing the stream): polling takes over.
    class Broken {
      private onError: ((event: { readonly data?: unknown }) => void) | undefined;
      constructor() {
        setTimeout(() => this.onError?.({}), 10);
      }
      addEventListener(type: string, listener: (event: { readonly data?: unknown }) => void): void {
        if (type === "error") this.onError = listener;
      }
      close(): void {
        this.onError = undefined;
      }
    }
    const fallback = createGatewayClient({ baseUrl: server.baseUrl, fetch: jar.fetch, EventSource: Broken });
    const polled = await follow(fallback, quoteId);
    assert.deepEqual(polled.transports, ["sse", "polling"]);
    assertCompleted(polled.events, quoteId);

    // Someone else's (or no such) quote: the problem ends the events.
    const missing = await thrown(follow(createGatewayClient({ baseUrl: server.baseUrl, fetch: jar.fetch }), "no-such-quote"));
    assert.ok(isProblem(missing) && missing.status === 404, String(missing));
  });

  test("mobile-style: a bearer session token, no cookie, no CSRF header", async () => {
    const sent: Sent[] = [];
    const jar = cookieJarFetch(sent); // records requests; a bearer client sends no cookie
    const tokens: (string | null)[] = [];
    const gateway = createGatewayClient({
      baseUrl: server.baseUrl,
      transport: "bearer",
      fetch: jar.fetch,
      onSessionToken: (token) => tokens.push(token),
    });

    const pending = await unwrap(gateway.POST("/api/v1/session", { body: CUSTOMER }));
    assert.equal(pending.status, "mfa_required");
    assert.equal(typeof pending.sessionToken, "string");
    assert.equal(gateway.sessionToken, pending.sessionToken);
    assert.equal(jar.cookies.size, 0, "no cookie for a bearer sign-in");
    assert.equal(sent[0]?.headers.get("X-Session-Transport"), "bearer");

    const wrong = await thrown(gateway.POST("/api/v1/session/mfa", { body: { code: "999999" } }));
    assert.ok(isProblem(wrong, "mfa_invalid"), String(wrong));
    const session = await unwrap(gateway.POST("/api/v1/session/mfa", { body: { code: SMS_CODE } }));
    assert.equal(session.status, "authenticated");

    // A restarted app: a new client from the stored token.
    const restarted = createGatewayClient({ baseUrl: server.baseUrl, transport: "bearer", sessionToken: tokens.at(-1) ?? null });
    const quoteId = await quoteForTheCar(restarted);
    // EventSource cannot carry the bearer token: a bearer client polls even when it has one.
    const polling = createGatewayClient({
      baseUrl: server.baseUrl,
      transport: "bearer",
      sessionToken: restarted.sessionToken,
      EventSource: fetchEventSource(fetch),
    });
    const followed = await follow(polling, quoteId);
    assert.deepEqual(followed.transports, ["polling"]);
    assertCompleted(followed.events, quoteId);

    // The SMS-code step issues a new session token; the pending one ends there.
    assert.notEqual(session.sessionToken, pending.sessionToken);
    for (const [i, request] of sent.slice(1).entries()) {
      const expected: string | null | undefined = i < 2 ? pending.sessionToken : session.sessionToken;
      assert.equal(request.headers.get("Authorization"), `Bearer ${expected}`);
      assert.equal(request.headers.get("X-CSRF"), null);
      assert.equal(request.credentials, "omit");
    }

    await gateway.DELETE("/api/v1/session");
    assert.equal(gateway.sessionToken, null);
    assert.deepEqual(tokens, [pending.sessionToken, session.sessionToken, null]);
    assert.ok(isProblem(await thrown(restarted.GET("/api/v1/session")), "not_authenticated"));
  });
});
