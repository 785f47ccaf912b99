import { describe, expect, inject, it } from "vitest";

const base = inject("baseUrl");

describe("system endpoints over HTTP (wrangler dev)", () => {
  it("serves /health", async () => {
    const res = await fetch(`${base}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "ok", environment: "development" });
  });

  it("serves /health/ready: every dependency reachable; providers judged by their last hour, never 503", async () => {
    const res = await fetch(`${base}/health/ready`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; checks: Record<string, { status: string }> };
    expect(body.checks).toMatchObject({
      config: { status: "ok" },
      database: { status: "ok" },
      homes: { status: "ok" },
      limiter: { status: "ok" },
      sync_queue: { status: "ok" },
      email_queue: { status: "ok" },
      email_transport: { status: "ok" },
    });
    // Other suites' failing scenarios share this server, so a sandbox may well be degraded by now:
    // that is a provider's state, which degrades the answer but never fails it.
    const providers = Object.keys(body.checks).filter((k) => k.startsWith("provider:"));
    expect(providers).toEqual(expect.arrayContaining(["provider:sandbox", "provider:sandbox_gocardless"]));
    const degraded = Object.entries(body.checks).filter(([, c]) => c.status !== "ok");
    expect(degraded.every(([k, c]) => k.startsWith("provider:") && c.status === "degraded")).toBe(true);
    expect(body.status).toBe(degraded.length === 0 ? "ok" : "degraded");
  });

  it("serves a valid OpenAPI 3.1 document", async () => {
    const res = await fetch(`${base}/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string };
    const { Validator } = await import("@seriousme/openapi-schema-validator");
    const result = await new Validator().validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(doc.openapi).toBe("3.1.0");
  });

  it("serves the docs page", async () => {
    const res = await fetch(`${base}/docs`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("/openapi.json");
  });

  it("answers unknown routes and bad input with problem+json, never a 500", async () => {
    const notFound = await fetch(`${base}/api/v1/nope`);
    expect(notFound.status).toBe(404);
    expect(notFound.headers.get("content-type")).toBe("application/problem+json");
    const wrongMethod = await fetch(`${base}/health`, { method: "POST" });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("allow")).toContain("GET");
  });
});
