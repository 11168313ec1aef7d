// Built from clients/typescript (make client); do not edit. Includes openapi-fetch (MIT).

// node_modules/openapi-fetch/dist/index.mjs
var PATH_PARAM_RE = /\{[^{}]+\}/g;
var supportsRequestInitExt = () => {
  return typeof process === "object" && Number.parseInt(process?.versions?.node?.substring(0, 2)) >= 18 && process.versions.undici;
};
function randomID() {
  return Math.random().toString(36).slice(2, 11);
}
function createClient(clientOptions) {
  let {
    baseUrl = "",
    Request: CustomRequest = globalThis.Request,
    fetch: baseFetch = globalThis.fetch,
    querySerializer: globalQuerySerializer,
    bodySerializer: globalBodySerializer,
    pathSerializer: globalPathSerializer,
    headers: baseHeaders,
    requestInitExt = void 0,
    ...baseOptions
  } = { ...clientOptions };
  requestInitExt = supportsRequestInitExt() ? requestInitExt : void 0;
  baseUrl = removeTrailingSlash(baseUrl);
  const globalMiddlewares = [];
  async function coreFetch(schemaPath, fetchOptions) {
    const {
      baseUrl: localBaseUrl,
      fetch = baseFetch,
      Request = CustomRequest,
      headers,
      params = {},
      parseAs = "json",
      querySerializer: requestQuerySerializer,
      bodySerializer = globalBodySerializer ?? defaultBodySerializer,
      pathSerializer: requestPathSerializer,
      body,
      middleware: requestMiddlewares = [],
      ...init
    } = fetchOptions || {};
    let finalBaseUrl = baseUrl;
    if (localBaseUrl) {
      finalBaseUrl = removeTrailingSlash(localBaseUrl) ?? baseUrl;
    }
    let querySerializer = typeof globalQuerySerializer === "function" ? globalQuerySerializer : createQuerySerializer(globalQuerySerializer);
    if (requestQuerySerializer) {
      querySerializer = typeof requestQuerySerializer === "function" ? requestQuerySerializer : createQuerySerializer({
        ...typeof globalQuerySerializer === "object" ? globalQuerySerializer : {},
        ...requestQuerySerializer
      });
    }
    const pathSerializer = requestPathSerializer || globalPathSerializer || defaultPathSerializer;
    const serializedBody = body === void 0 ? void 0 : bodySerializer(
      body,
      // Note: we declare mergeHeaders() both here and below because it’s a bit of a chicken-or-egg situation:
      // bodySerializer() needs all headers so we aren’t dropping ones set by the user, however,
      // the result of this ALSO sets the lowest-priority content-type header. So we re-merge below,
      // setting the content-type at the very beginning to be overwritten.
      // Lastly, based on the way headers work, it’s not a simple “present-or-not” check becauase null intentionally un-sets headers.
      mergeHeaders(baseHeaders, headers, params.header)
    );
    const finalHeaders = mergeHeaders(
      // with no body, we should not to set Content-Type
      serializedBody === void 0 || // if serialized body is FormData; browser will correctly set Content-Type & boundary expression
      serializedBody instanceof FormData ? {} : {
        "Content-Type": "application/json"
      },
      baseHeaders,
      headers,
      params.header
    );
    const finalMiddlewares = [...globalMiddlewares, ...requestMiddlewares];
    const requestInit = {
      redirect: "follow",
      ...baseOptions,
      ...init,
      body: serializedBody,
      headers: finalHeaders
    };
    let id;
    let options;
    let request = new Request(
      createFinalURL(schemaPath, { baseUrl: finalBaseUrl, params, querySerializer, pathSerializer }),
      requestInit
    );
    let response;
    for (const key in init) {
      if (!(key in request)) {
        request[key] = init[key];
      }
    }
    if (finalMiddlewares.length) {
      id = randomID();
      options = Object.freeze({
        baseUrl: finalBaseUrl,
        fetch,
        parseAs,
        querySerializer,
        bodySerializer,
        pathSerializer
      });
      for (const m of finalMiddlewares) {
        if (m && typeof m === "object" && typeof m.onRequest === "function") {
          const result = await m.onRequest({
            request,
            schemaPath,
            params,
            options,
            id
          });
          if (result) {
            if (result instanceof Request) {
              request = result;
            } else if (result instanceof Response) {
              response = result;
              break;
            } else {
              throw new Error("onRequest: must return new Request() or Response() when modifying the request");
            }
          }
        }
      }
    }
    if (!response) {
      try {
        response = await fetch(request, requestInitExt);
      } catch (error2) {
        let errorAfterMiddleware = error2;
        if (finalMiddlewares.length) {
          for (let i = finalMiddlewares.length - 1; i >= 0; i--) {
            const m = finalMiddlewares[i];
            if (m && typeof m === "object" && typeof m.onError === "function") {
              const result = await m.onError({
                request,
                error: errorAfterMiddleware,
                schemaPath,
                params,
                options,
                id
              });
              if (result) {
                if (result instanceof Response) {
                  errorAfterMiddleware = void 0;
                  response = result;
                  break;
                }
                if (result instanceof Error) {
                  errorAfterMiddleware = result;
                  continue;
                }
                throw new Error("onError: must return new Response() or instance of Error");
              }
            }
          }
        }
        if (errorAfterMiddleware) {
          throw errorAfterMiddleware;
        }
      }
      if (finalMiddlewares.length) {
        for (let i = finalMiddlewares.length - 1; i >= 0; i--) {
          const m = finalMiddlewares[i];
          if (m && typeof m === "object" && typeof m.onResponse === "function") {
            const result = await m.onResponse({
              request,
              response,
              schemaPath,
              params,
              options,
              id
            });
            if (result) {
              if (!(result instanceof Response)) {
                throw new Error("onResponse: must return new Response() when modifying the response");
              }
              response = result;
            }
          }
        }
      }
    }
    const contentLength = response.headers.get("Content-Length");
    if (response.status === 204 || request.method === "HEAD" || contentLength === "0" && !response.headers.get("Transfer-Encoding")?.includes("chunked")) {
      return response.ok ? { data: void 0, response } : { error: void 0, response };
    }
    if (response.ok) {
      const getResponseData = async () => {
        if (parseAs === "stream") {
          return response.body;
        }
        if (parseAs === "json" && !contentLength) {
          const raw = await response.text();
          return raw ? JSON.parse(raw) : void 0;
        }
        return await response[parseAs]();
      };
      return { data: await getResponseData(), response };
    }
    let error = await response.text();
    try {
      error = JSON.parse(error);
    } catch {
    }
    return { error, response };
  }
  return {
    request(method, url, init) {
      return coreFetch(url, { ...init, method: method.toUpperCase() });
    },
    /** Call a GET endpoint */
    GET(url, init) {
      return coreFetch(url, { ...init, method: "GET" });
    },
    /** Call a PUT endpoint */
    PUT(url, init) {
      return coreFetch(url, { ...init, method: "PUT" });
    },
    /** Call a POST endpoint */
    POST(url, init) {
      return coreFetch(url, { ...init, method: "POST" });
    },
    /** Call a DELETE endpoint */
    DELETE(url, init) {
      return coreFetch(url, { ...init, method: "DELETE" });
    },
    /** Call a OPTIONS endpoint */
    OPTIONS(url, init) {
      return coreFetch(url, { ...init, method: "OPTIONS" });
    },
    /** Call a HEAD endpoint */
    HEAD(url, init) {
      return coreFetch(url, { ...init, method: "HEAD" });
    },
    /** Call a PATCH endpoint */
    PATCH(url, init) {
      return coreFetch(url, { ...init, method: "PATCH" });
    },
    /** Call a TRACE endpoint */
    TRACE(url, init) {
      return coreFetch(url, { ...init, method: "TRACE" });
    },
    /** Register middleware */
    use(...middleware) {
      for (const m of middleware) {
        if (!m) {
          continue;
        }
        if (typeof m !== "object" || !("onRequest" in m || "onResponse" in m || "onError" in m)) {
          throw new Error("Middleware must be an object with one of `onRequest()`, `onResponse() or `onError()`");
        }
        globalMiddlewares.push(m);
      }
    },
    /** Unregister middleware */
    eject(...middleware) {
      for (const m of middleware) {
        const i = globalMiddlewares.indexOf(m);
        if (i !== -1) {
          globalMiddlewares.splice(i, 1);
        }
      }
    }
  };
}
function serializePrimitiveParam(name, value, options) {
  if (value === void 0 || value === null) {
    return "";
  }
  if (typeof value === "object") {
    throw new Error(
      "Deeply-nested arrays/objects aren’t supported. Provide your own `querySerializer()` to handle these."
    );
  }
  return `${name}=${options?.allowReserved === true ? value : encodeURIComponent(value)}`;
}
function serializeObjectParam(name, value, options) {
  if (!value || typeof value !== "object") {
    return "";
  }
  const values = [];
  const joiner = {
    simple: ",",
    label: ".",
    matrix: ";"
  }[options.style] || "&";
  if (options.style !== "deepObject" && options.explode === false) {
    for (const k in value) {
      values.push(k, options.allowReserved === true ? value[k] : encodeURIComponent(value[k]));
    }
    const final2 = values.join(",");
    switch (options.style) {
      case "form": {
        return `${name}=${final2}`;
      }
      case "label": {
        return `.${final2}`;
      }
      case "matrix": {
        return `;${name}=${final2}`;
      }
      default: {
        return final2;
      }
    }
  }
  for (const k in value) {
    const finalName = options.style === "deepObject" ? `${name}[${k}]` : k;
    values.push(serializePrimitiveParam(finalName, value[k], options));
  }
  const final = values.join(joiner);
  return options.style === "label" || options.style === "matrix" ? `${joiner}${final}` : final;
}
function serializeArrayParam(name, value, options) {
  if (!Array.isArray(value)) {
    return "";
  }
  if (options.explode === false) {
    const joiner2 = { form: ",", spaceDelimited: "%20", pipeDelimited: "|" }[options.style] || ",";
    const final = (options.allowReserved === true ? value : value.map((v) => encodeURIComponent(v))).join(joiner2);
    switch (options.style) {
      case "simple": {
        return final;
      }
      case "label": {
        return `.${final}`;
      }
      case "matrix": {
        return `;${name}=${final}`;
      }
      // case "spaceDelimited":
      // case "pipeDelimited":
      default: {
        return `${name}=${final}`;
      }
    }
  }
  const joiner = { simple: ",", label: ".", matrix: ";" }[options.style] || "&";
  const values = [];
  for (const v of value) {
    if (options.style === "simple" || options.style === "label") {
      values.push(options.allowReserved === true ? v : encodeURIComponent(v));
    } else {
      values.push(serializePrimitiveParam(name, v, options));
    }
  }
  return options.style === "label" || options.style === "matrix" ? `${joiner}${values.join(joiner)}` : values.join(joiner);
}
function createQuerySerializer(options) {
  return function querySerializer(queryParams) {
    const search = [];
    if (queryParams && typeof queryParams === "object") {
      for (const name in queryParams) {
        const value = queryParams[name];
        if (value === void 0 || value === null) {
          continue;
        }
        if (Array.isArray(value)) {
          if (value.length === 0) {
            continue;
          }
          search.push(
            serializeArrayParam(name, value, {
              style: "form",
              explode: true,
              ...options?.array,
              allowReserved: options?.allowReserved || false
            })
          );
          continue;
        }
        if (typeof value === "object") {
          search.push(
            serializeObjectParam(name, value, {
              style: "deepObject",
              explode: true,
              ...options?.object,
              allowReserved: options?.allowReserved || false
            })
          );
          continue;
        }
        search.push(serializePrimitiveParam(name, value, options));
      }
    }
    return search.join("&");
  };
}
function defaultPathSerializer(pathname, pathParams) {
  let nextURL = pathname;
  for (const match of pathname.match(PATH_PARAM_RE) ?? []) {
    let name = match.substring(1, match.length - 1);
    let explode = false;
    let style = "simple";
    if (name.endsWith("*")) {
      explode = true;
      name = name.substring(0, name.length - 1);
    }
    if (name.startsWith(".")) {
      style = "label";
      name = name.substring(1);
    } else if (name.startsWith(";")) {
      style = "matrix";
      name = name.substring(1);
    }
    if (!pathParams || pathParams[name] === void 0 || pathParams[name] === null) {
      continue;
    }
    const value = pathParams[name];
    if (Array.isArray(value)) {
      nextURL = nextURL.replace(match, serializeArrayParam(name, value, { style, explode }));
      continue;
    }
    if (typeof value === "object") {
      nextURL = nextURL.replace(match, serializeObjectParam(name, value, { style, explode }));
      continue;
    }
    if (style === "matrix") {
      nextURL = nextURL.replace(match, `;${serializePrimitiveParam(name, value)}`);
      continue;
    }
    nextURL = nextURL.replace(match, style === "label" ? `.${encodeURIComponent(value)}` : encodeURIComponent(value));
  }
  return nextURL;
}
function defaultBodySerializer(body, headers) {
  if (body instanceof FormData) {
    return body;
  }
  if (headers) {
    const contentType = headers.get instanceof Function ? headers.get("Content-Type") ?? headers.get("content-type") : headers["Content-Type"] ?? headers["content-type"];
    if (contentType === "application/x-www-form-urlencoded") {
      return new URLSearchParams(body).toString();
    }
  }
  return JSON.stringify(body);
}
function createFinalURL(pathname, options) {
  let finalURL = `${options.baseUrl}${pathname}`;
  if (options.params?.path) {
    finalURL = options.pathSerializer(finalURL, options.params.path);
  }
  let search = options.querySerializer(options.params.query ?? {});
  if (search.startsWith("?")) {
    search = search.substring(1);
  }
  if (search) {
    finalURL += `?${search}`;
  }
  return finalURL;
}
function mergeHeaders(...allHeaders) {
  const finalHeaders = new Headers();
  for (const h of allHeaders) {
    if (!h || typeof h !== "object") {
      continue;
    }
    const iterator = h instanceof Headers ? h.entries() : Object.entries(h);
    for (const [k, v] of iterator) {
      if (v === null) {
        finalHeaders.delete(k);
      } else if (Array.isArray(v)) {
        for (const v2 of v) {
          finalHeaders.append(k, v2);
        }
      } else if (v !== void 0) {
        finalHeaders.set(k, v);
      }
    }
  }
  return finalHeaders;
}
function removeTrailingSlash(url) {
  if (url.endsWith("/")) {
    return url.substring(0, url.length - 1);
  }
  return url;
}

// src/index.ts
var PROBLEM_CODES = [
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
  "internal_error"
];
var KNOWN = /* @__PURE__ */ new Set([...PROBLEM_CODES, "network_error"]);
var GatewayProblem = class extends Error {
  name = "GatewayProblem";
  /** The problem+json body (or one made up for a network failure / non-problem answer). */
  problem;
  /** The HTTP answer, when there was one. */
  response;
  /** Seconds to wait, from `Retry-After` (429, some 503). */
  retryAfter;
  /** The Idempotency-Key the failed request carried: send it again to retry that attempt. */
  idempotencyKey;
  constructor(problem, init = {}) {
    super(problem.detail || problem.title || problem.code, { cause: init.cause });
    this.problem = problem;
    this.response = init.response;
    this.retryAfter = init.retryAfter;
    this.idempotencyKey = init.idempotencyKey;
  }
  get code() {
    return this.problem.code;
  }
  get status() {
    return this.problem.status;
  }
  get title() {
    return this.problem.title;
  }
  /** Human-readable and safe to show. */
  get detail() {
    return this.problem.detail || this.problem.title || this.problem.code;
  }
  /** Quote it when reporting a problem. */
  get requestId() {
    return this.problem.requestId;
  }
  /** `[{field, message}]`; `field` is the API's name of the input ("card.number"). */
  get errors() {
    return this.problem.errors ?? [];
  }
  /**
   * The problem when its code is one this client knows, else undefined: `switch
   * (err.known?.code)` narrows each case to its own shape (`errors` for validation_failed).
   */
  get known() {
    const problem = this.problem;
    return KNOWN.has(problem.code) ? problem : void 0;
  }
  /** No session, or InsurUp ended it: sign in again. */
  get needsSignIn() {
    return this.problem.status === 401;
  }
};
function isProblem(error, ...codes) {
  return error instanceof GatewayProblem && (codes.length === 0 || codes.includes(error.code));
}
function problemOf(response, body) {
  const requestId = response.headers.get("X-Request-ID") ?? "";
  if (isRecord(body) && typeof body["code"] === "string") {
    const title2 = typeof body["title"] === "string" ? body["title"] : response.statusText;
    return {
      ...body,
      type: typeof body["type"] === "string" ? body["type"] : "about:blank",
      title: title2,
      status: response.status,
      detail: typeof body["detail"] === "string" ? body["detail"] : title2,
      code: body["code"],
      requestId: typeof body["requestId"] === "string" ? body["requestId"] : requestId,
      errors: Array.isArray(body["errors"]) ? body["errors"].filter(isProblemField) : []
    };
  }
  const title = response.statusText || "Request failed";
  const code = `http_${response.status}`;
  return { type: "about:blank", title, status: response.status, detail: title, code, requestId, errors: [] };
}
function isRecord(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
function isProblemField(value) {
  return isRecord(value) && typeof value["field"] === "string" && typeof value["message"] === "string";
}
async function unwrap(call) {
  const result = await call;
  if (result.error !== void 0 || !result.response.ok) {
    throw new GatewayProblem(problemOf(result.response, result.error), { response: result.response });
  }
  return result.data;
}
function newIdempotencyKey() {
  if (typeof globalThis.crypto.randomUUID === "function") return globalThis.crypto.randomUUID();
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
var UNSAFE = /* @__PURE__ */ new Set(["POST", "PUT", "PATCH", "DELETE"]);
var SIGN_IN = /\/api\/v1\/session(\/mfa)?$/;
var SESSION = /\/api\/v1\/session$/;
var IDEMPOTENT = /\/api\/v1\/quotes(\/[^/]+\/products\/[^/]+\/purchase)?$/;
function createGatewayClient(options = {}) {
  const baseUrl = (options.baseUrl ?? "").replace(/\/+$/, "");
  const bearer = options.transport === "bearer";
  let token = options.sessionToken ?? null;
  const setToken = (next) => {
    if (next === token) return;
    token = next;
    options.onSessionToken?.(next);
  };
  const client = createClient({
    baseUrl,
    credentials: bearer ? "omit" : "include",
    ...options.fetch ? { fetch: options.fetch } : {}
  });
  const transport = {
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
        let body = null;
        try {
          body = text ? JSON.parse(text) : null;
        } catch {
          body = null;
        }
        const retryAfter = Number(response.headers.get("Retry-After")) || void 0;
        const idempotencyKey = request.headers.get("Idempotency-Key") ?? void 0;
        throw new GatewayProblem(problemOf(response, body), {
          response,
          ...retryAfter ? { retryAfter } : {},
          ...idempotencyKey ? { idempotencyKey } : {}
        });
      }
      if (bearer && request.method === "POST" && SIGN_IN.test(path)) {
        const answer = await response.clone().json();
        if (isRecord(answer) && typeof answer["sessionToken"] === "string") setToken(answer["sessionToken"]);
      } else if (bearer && request.method === "DELETE" && SESSION.test(path)) {
        setToken(null);
      }
      return response;
    },
    onError({ request, error }) {
      if (request.signal.aborted || error instanceof Error && error.name === "AbortError") return void 0;
      const idempotencyKey = request.headers.get("Idempotency-Key") ?? void 0;
      const problem = {
        type: "about:blank",
        title: "Network error",
        status: 0,
        detail: "The gateway could not be reached",
        code: "network_error",
        requestId: ""
      };
      return new GatewayProblem(problem, { cause: error, ...idempotencyKey ? { idempotencyKey } : {} });
    }
  };
  client.use(transport);
  const globalSource = globalThis.EventSource;
  const Source = options.EventSource === void 0 ? globalSource : options.EventSource;
  const streamWith = bearer ? void 0 : Source ?? void 0;
  async function* quoteEvents(quoteId, opts = {}) {
    const seen = /* @__PURE__ */ new Map();
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
  async function* polled(quoteId, seen, opts) {
    const interval = opts.pollIntervalMs ?? 2e3;
    const deadline = Date.now() + (opts.timeoutMs ?? 5 * 60 * 1e3);
    for (; ; ) {
      let quote;
      try {
        ({ data: quote } = await client.GET("/api/v1/quotes/{quoteId}", {
          params: { path: { quoteId } },
          ...opts.signal ? { signal: opts.signal } : {}
        }));
      } catch (err) {
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
    quoteEvents
  };
}
async function* streamed(source, seen, signal) {
  const queue = [];
  let wake;
  const arrive = (arrival) => {
    queue.push(arrival);
    wake?.();
    wake = void 0;
  };
  for (const type of ["product", "complete", "timeout", "error"]) {
    source.addEventListener(type, (event) => {
      if (typeof event.data === "string") arrive({ kind: "event", event: parseEvent(type, event.data) });
      else if (type === "error") arrive({ kind: "broken" });
    });
  }
  const onAbort = () => arrive({ kind: "aborted" });
  signal?.addEventListener("abort", onAbort);
  try {
    for (; ; ) {
      const next = queue.shift();
      if (!next) {
        await new Promise((resolve) => wake = resolve);
        continue;
      }
      if (next.kind === "aborted") throw signal?.reason;
      if (next.kind === "broken") return false;
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
function parseEvent(type, data) {
  const body = JSON.parse(data);
  switch (type) {
    case "product":
      return { type, product: body };
    case "complete":
      return { type, quote: body };
    case "timeout":
      return { type, quoteId: isRecord(body) ? String(body["quoteId"]) : "" };
    case "error":
      return {
        type,
        code: isRecord(body) ? String(body["code"]) : "upstream_error",
        detail: isRecord(body) ? String(body["detail"]) : ""
      };
  }
}
function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    const done = () => {
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
export {
  GatewayProblem,
  PROBLEM_CODES,
  createGatewayClient,
  isProblem,
  newIdempotencyKey,
  unwrap
};
