// Test support: a real gateway (uvicorn + the built-in sandbox) on a free loopback port, a
// cookie jar for Node's fetch, and an EventSource that reads the stream with fetch.

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import type { EventSourceConstructor, EventSourceLike } from "../src/index.js";

export type Fetch = (request: Request) => Promise<Response>;

/** The repository root: the first folder above this file that holds openapi/openapi.json. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "openapi", "openapi.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("openapi/openapi.json not found above the tests");
    dir = up;
  }
  return dir;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface Gateway {
  baseUrl: string;
  /** What the server printed, for a failing test's message. */
  output(): string;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
// Last resort: never leave a gateway behind, even when the test process dies.
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    for (const child of running) child.kill("SIGKILL");
    process.exit(128 + (signal === "SIGINT" ? 2 : 15));
  });
}

/** `make run`'s gateway (embedded sandbox, in-process store, plain-http cookie). */
export async function startGateway(): Promise<Gateway> {
  const root = repoRoot();
  const uvicorn = join(root, ".venv", "bin", "uvicorn");
  if (!existsSync(uvicorn)) throw new Error(`${uvicorn} is missing: run make install`);
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const child = spawn(
    uvicorn,
    ["--factory", "app.main:create_app", "--host", "127.0.0.1", "--port", String(port), "--no-access-log"],
    {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        BFF_ENV: "development",
        BFF_INSURUP_BASE_URL: "sandbox",
        BFF_REDIS_URL: "memory://",
        BFF_COOKIE_SECURE: "false",
        BFF_PUBLIC_BASE_URL: baseUrl,
        BFF_QUOTE_POLL_SECONDS: "0.2",
        BFF_LOGIN_RATE_LIMIT_PER_IDENTITY: "100/minute",
        BFF_LOG_LEVEL: "WARNING",
      },
    },
  );
  running.add(child);
  let output = "";
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString("utf8")).slice(-20_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.once("exit", () => running.delete(child));

  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  };

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the gateway exited (${child.exitCode}):\n${output}`);
    try {
      if ((await fetch(`${baseUrl}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the gateway did not answer within 30 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { baseUrl, output: () => output, stop };
}

export interface Sent {
  method: string;
  path: string;
  headers: Headers;
  credentials: RequestCredentials;
}

/** Node's fetch with a cookie jar (what a browser does for `credentials: "include"`). */
export function cookieJarFetch(sent: Sent[] = []): { fetch: Fetch; cookies: Map<string, string> } {
  const cookies = new Map<string, string>();
  const jarFetch: Fetch = async (request) => {
    sent.push({
      method: request.method,
      path: new URL(request.url).pathname,
      headers: new Headers(request.headers),
      credentials: request.credentials,
    });
    if (request.credentials === "include" && cookies.size) {
      request.headers.set("Cookie", [...cookies].map(([name, value]) => `${name}=${value}`).join("; "));
    }
    const response = await fetch(request);
    for (const line of response.headers.getSetCookie()) {
      const [pair = "", ...attributes] = line.split(";");
      const at = pair.indexOf("=");
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      const gone = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a)) || value === "" || value === '""';
      if (gone) cookies.delete(name);
      else cookies.set(name, value);
    }
    return response;
  };
  return { fetch: jarFetch, cookies };
}

type Listener = (event: { readonly data?: unknown }) => void;

/** An EventSource for Node that reads the stream through `fetchFn` (and so the cookie jar). */
export function fetchEventSource(fetchFn: Fetch, opened: string[] = []): EventSourceConstructor {
  return class implements EventSourceLike {
    private readonly listeners = new Map<string, Listener[]>();
    private readonly aborter = new AbortController();

    constructor(url: string) {
      opened.push(url);
      void this.read(url);
    }

    addEventListener(type: string, listener: Listener): void {
      this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
    }

    close(): void {
      this.aborter.abort();
    }

    private emit(type: string, event: { readonly data?: unknown }): void {
      if (this.aborter.signal.aborted) return;
      for (const listener of this.listeners.get(type) ?? []) listener(event);
    }

    private async read(url: string): Promise<void> {
      try {
        const response = await fetchFn(
          new Request(url, { headers: { Accept: "text/event-stream" }, credentials: "include", signal: this.aborter.signal }),
        );
        if (!response.ok || !response.body) throw new Error(`stream answered ${response.status}`);
        let buffer = "";
        let raw = "";
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          // Lines end in \r\n, \n or \r; a \r at a chunk's end may be half of a \r\n.
          raw += value;
          const cut = raw.endsWith("\r") ? raw.length - 1 : raw.length;
          buffer += raw.slice(0, cut).replace(/\r\n?/g, "\n");
          raw = raw.slice(cut);
          let end: number;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            this.dispatch(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
          }
        }
      } catch {
        // closed by us, refused, or dropped: like EventSource, say only "error"
      }
      this.emit("error", {});
    }

    private dispatch(block: string): void {
      let type = "message";
      const data: string[] = [];
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) continue;
        const at = line.indexOf(":");
        const field = at < 0 ? line : line.slice(0, at);
        const value = at < 0 ? "" : line.slice(at + 1).replace(/^ /, "");
        if (field === "event") type = value;
        else if (field === "data") data.push(value);
      }
      if (data.length) this.emit(type, { data: data.join("\n") });
    }
  };
}
