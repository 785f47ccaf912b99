import { describe, expect, inject, it } from "vitest";

const base = inject("baseUrl");

describe("system endpoints over HTTP (wrangler dev)", () => {
  it("serves /health", async () => {
    const res = await fetch(`${base}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "ok", environment: "development" });
  });

  it("serves /health/ready with D1, the homes and the Limiter reachable", async () => {
    const res = await fetch(`${base}/health/ready`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      status: "ok",
      checks: {
        config: { status: "ok" },
        database: { status: "ok" },
        homes: { status: "ok" },
        limiter: { status: "ok" },
      },
    });
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
