import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src";
import { call, problem } from "../support/http";
import { seededSession } from "../support/seed";

const ctx = () => ({ waitUntil() {}, passThroughOnException() {}, props: {} }) as unknown as ExecutionContext;

/** docs/contract.md "Conventions": what every API answer carries, served or refused. */
function expectApiHeaders(res: Response) {
  expect(res.headers.get("Strict-Transport-Security")).toBe("max-age=63072000; includeSubDomains");
  expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
  expect(res.headers.get("X-Frame-Options")).toBe("DENY");
  expect(res.headers.get("Referrer-Policy")).toBe("no-referrer");
  expect(res.headers.get("Cross-Origin-Resource-Policy")).toBe("same-origin");
  expect(res.headers.get("Content-Security-Policy")).toBe(
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
  );
  expect(res.headers.get("Cache-Control")).toBe("no-store");
}

describe("GET /health", () => {
  it("answers ok with version and environment, without I/O", async () => {
    const res = await call("/health");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok", version: expect.any(String), environment: "test" });
  });

  it("still answers when the configuration is broken", async () => {
    const res = await worker.fetch(new Request("https://x.test/health"), { ...env, JWT_SIGNING_KEYS: "nope" }, ctx());
    expect(res.status).toBe(200);
  });
});

describe("configuration", () => {
  it("answers 503 misconfigured on every route but /health when config is invalid", async () => {
    const bad = { ...env, ENVIRONMENT: "production" };
    for (const path of ["/openapi.json", "/docs", "/api/v1/nothing", "/health/ready"]) {
      const res = await worker.fetch(new Request(`https://x.test${path}`), bad, ctx());
      expect(res.status, path).toBe(503);
      if (path !== "/health/ready") expect((await problem(res)).code).toBe("misconfigured");
    }
  });
});

describe("request pipeline", () => {
  it("reuses a sane client X-Request-Id", async () => {
    const res = await call("/health", { headers: { "X-Request-Id": "client-abc_123=" } });
    expect(res.headers.get("X-Request-Id")).toBe("client-abc_123=");
  });

  it("replaces an unsafe or overlong X-Request-Id with a fresh one", async () => {
    for (const bad of ["has spaces", "x".repeat(129), "<script>"]) {
      const res = await call("/health", { headers: { "X-Request-Id": bad } });
      const id = res.headers.get("X-Request-Id");
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it("puts the request id on error responses too", async () => {
    const res = await call("/nope", { headers: { "X-Request-Id": "trace-1" } });
    expect(res.headers.get("X-Request-Id")).toBe("trace-1");
    expect((await problem(res)).request_id).toBe("trace-1");
  });

  it("sets security headers", async () => {
    const res = await call("/health");
    expect(res.headers.get("Strict-Transport-Security")).toContain("max-age=");
    expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(res.headers.get("X-Frame-Options")).toBe("DENY");
    expect(res.headers.get("Content-Security-Policy")).toContain("default-src 'none'");
  });

  it("gives JSON answers the JSON set, pages also the HTML-only headers, and lets the JWKS be cached", async () => {
    const health = await call("/health");
    expect(health.headers.get("Cache-Control")).toBe("no-store");
    expect(health.headers.get("Cross-Origin-Opener-Policy")).toBeNull();
    expect(health.headers.get("X-XSS-Protection")).toBeNull();
    const jwks = await call("/.well-known/jwks.json");
    expect(jwks.headers.get("Cache-Control")).toBe("public, max-age=300");
    expect(jwks.headers.get("X-Content-Type-Options")).toBe("nosniff");
    const page = await call("/verify-email");
    expect(page.headers.get("Content-Type")).toContain("text/html");
    expect(page.headers.get("Cross-Origin-Opener-Policy")).toBe("same-origin");
    expect(page.headers.get("X-Frame-Options")).toBe("DENY");
    // Any other answer outside the API has Hono write the API's CSP: the two spellings agree.
    const other = await call("/nope");
    expect(other.headers.get("Content-Security-Policy")).toBe(health.headers.get("Content-Security-Policy"));
  });

  it("marks API responses no-store", async () => {
    const res = await call("/api/v1/unknown");
    expect(res.headers.get("Cache-Control")).toBe("no-store");
  });

  it("puts the contract's headers on an API answer, read or refused, and keeps the refusal's limit fields", async () => {
    const s = await seededSession("headers");
    const read = await call("/api/v1/auth/me", { headers: { Authorization: `Bearer ${s.tokens.access_token}` } });
    const refused = await call("/api/v1/auth/me", { headers: { Authorization: "Bearer not-a-token" } });
    for (const res of [read, refused]) {
      expectApiHeaders(res);
      expect(res.headers.get("Vary")).toContain("Origin");
      expect(res.headers.get("X-Request-Id")).toBeTruthy();
    }
    expect(read.status).toBe(200);
    expect(read.headers.get("RateLimit")).toMatch(/"user_read";r=\d+;t=\d+/);
    expect(refused.status).toBe(401);
  });

  it("puts the same headers on every kind of API refusal: unknown path, wrong method, body too large, bad input", async () => {
    const answers = [
      await call("/api/v1/unknown"),
      await call("/api/v1/auth/login", { method: "PUT" }),
      await call("/api/v1/auth/login", { method: "POST", json: { email: "x".repeat(70 * 1024) } }),
      await call("/api/v1/auth/login", { method: "POST", json: { email: 42 } }),
    ];
    expect(answers.map((r) => r.status)).toEqual([404, 405, 413, 422]);
    for (const res of answers) {
      expect(res.headers.get("Content-Type")).toContain("application/problem+json");
      expectApiHeaders(res);
    }
  });

  it("answers an allow-listed origin's request with CORS fields, and no other origin", async () => {
    const allowed = await call("/api/v1/unknown", { headers: { Origin: "http://localhost:3000" } });
    expect(allowed.headers.get("Access-Control-Allow-Origin")).toBe("http://localhost:3000");
    expect(allowed.headers.get("Access-Control-Expose-Headers")).toContain("RateLimit");
    expect(allowed.headers.get("Vary")).toContain("Origin");
    const other = await call("/api/v1/unknown", { headers: { Origin: "https://evil.example" } });
    expect(other.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });

  it("answers CORS preflights only for allow-listed origins", async () => {
    const allowed = await call("/api/v1/x", {
      method: "OPTIONS",
      headers: { Origin: "http://localhost:3000", "Access-Control-Request-Method": "POST" },
    });
    expect(allowed.headers.get("Access-Control-Allow-Origin")).toBe("http://localhost:3000");
    const denied = await call("/api/v1/x", {
      method: "OPTIONS",
      headers: { Origin: "https://evil.example", "Access-Control-Request-Method": "POST" },
    });
    expect(denied.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });
});

describe("documentation", () => {
  it("serves an OpenAPI 3.1 document listing the routes and their errors", async () => {
    const res = await call("/openapi.json");
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      openapi: string;
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
      components: { schemas: Record<string, unknown> };
    };
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.paths["/health"]?.get).toBeDefined();
    expect(Object.keys(doc.paths["/health/ready"]?.get?.responses ?? {})).toEqual(["200", "500", "503"]);
    expect(doc.components.schemas.Problem).toBeDefined();
  });

  it("serves the interactive reference with its own CSP", async () => {
    const res = await call("/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toContain("text/html");
    expect(await res.text()).toContain("/openapi.json");
    expect(res.headers.get("Content-Security-Policy")).toContain("script-src");
    expect(res.headers.get("X-Frame-Options")).toBe("DENY");
  });
});

describe("the Worker export", () => {
  it("is served by the default export", async () => {
    const res = await exports.default.fetch("https://x.test/health");
    expect(res.status).toBe(200);
  });
});
