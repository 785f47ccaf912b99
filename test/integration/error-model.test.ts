import { env } from "cloudflare:workers";
import { createRoute, z } from "@hono/zod-openapi";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { BODY_PROBLEMS, jsonBodyOf, jsonContent, problems } from "../../src/http/openapi";
import { problem } from "../support/http";

// The real pipeline with two probe routes: one JSON endpoint and one that throws.
const app = createApp();
const Echo = z.object({ name: z.string().min(1), age: z.number().int().min(0) });
app.openapi(
  createRoute({
    method: "post",
    path: "/api/v1/_probe/echo",
    request: { body: jsonBodyOf(Echo), query: z.object({ limit: z.coerce.number().int().max(10).optional() }) },
    responses: { 200: jsonContent(Echo, "Echo"), ...problems(...BODY_PROBLEMS) },
  }),
  (c) => c.json(c.req.valid("json"), 200),
);
app.get("/api/v1/_probe/boom", () => {
  throw new Error("database password is hunter2");
});

const send = (path: string, init: RequestInit = {}) =>
  app.fetch(new Request(`https://x.test${path}`, init), env, {
    waitUntil() {},
    passThroughOnException() {},
    props: {},
  } as unknown as ExecutionContext);
const post = (body: BodyInit, contentType = "application/json", path = "/api/v1/_probe/echo") =>
  send(path, { method: "POST", body, headers: { "Content-Type": contentType } });

describe("error model (docs/contract.md, Errors)", () => {
  it("passes a valid request", async () => {
    const res = await post(JSON.stringify({ name: "Ada", age: 36 }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ name: "Ada", age: 36 });
  });

  it("400 malformed_json for a body that is not JSON", async () => {
    const res = await post('{"name": "Ada",');
    expect(res.status).toBe(400);
    const p = await problem(res);
    expect(p).toMatchObject({ status: 400, code: "malformed_json", type: "urn:ledgerlink:problem:malformed_json" });
    expect(p.request_id).toBe(res.headers.get("X-Request-Id"));
  });

  it("415 unsupported_media_type for a non-JSON content type", async () => {
    const res = await post("name=Ada", "application/x-www-form-urlencoded");
    expect(res.status).toBe(415);
    expect((await problem(res)).code).toBe("unsupported_media_type");
  });

  it("422 validation_failed with errors[] for schema violations", async () => {
    const res = await post(JSON.stringify({ name: "", age: -1.5 }));
    expect(res.status).toBe(422);
    const p = await problem(res);
    expect(p.code).toBe("validation_failed");
    expect(p.errors?.map((e) => e.path).sort()).toEqual(["age", "name"]);
    for (const e of p.errors ?? []) expect(e.message.length).toBeGreaterThan(0);
  });

  it("422 names the query parameter that failed", async () => {
    const res = await post(JSON.stringify({ name: "a", age: 1 }), "application/json", "/api/v1/_probe/echo?limit=99");
    expect(res.status).toBe(422);
    expect((await problem(res)).errors?.[0]?.path).toBe("query.limit");
  });

  it("422 for an empty body on an endpoint that needs one", async () => {
    const res = await send("/api/v1/_probe/echo", { method: "POST" });
    expect(res.status).toBe(422);
    expect((await problem(res)).code).toBe("validation_failed");
  });

  it("404 not_found for an unknown route", async () => {
    const res = await send("/api/v1/does-not-exist");
    expect(res.status).toBe(404);
    expect((await problem(res)).code).toBe("not_found");
  });

  it("405 method_not_allowed with Allow for a wrong method", async () => {
    const res = await send("/api/v1/_probe/echo", { method: "GET" });
    expect(res.status).toBe(405);
    expect(res.headers.get("Allow")).toBe("POST");
    expect((await problem(res)).code).toBe("method_not_allowed");
    const health = await send("/health", { method: "DELETE" });
    expect(health.status).toBe(405);
    expect(health.headers.get("Allow")).toContain("GET");
  });

  it("413 payload_too_large past 64 KiB, with or without Content-Length", async () => {
    const big = JSON.stringify({ name: "x".repeat(70 * 1024), age: 1 });
    const res = await post(big);
    expect(res.status).toBe(413);
    expect((await problem(res)).code).toBe("payload_too_large");
    const stream = new Blob([big]).stream();
    const chunked = await send("/api/v1/_probe/echo", {
      method: "POST",
      body: stream,
      headers: { "Content-Type": "application/json" },
      // @ts-expect-error: `duplex` is required by fetch for streamed bodies.
      duplex: "half",
    });
    expect(chunked.status).toBe(413);
  });

  it("500 internal_error reveals only the request id", async () => {
    const res = await send("/api/v1/_probe/boom", { headers: { "X-Request-Id": "boom-1" } });
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toContain("hunter2");
    expect(text).not.toContain("at ");
    expect(JSON.parse(text)).toMatchObject({ code: "internal_error", request_id: "boom-1" });
  });

  it("503 misconfigured when the config is invalid", async () => {
    const res = await app.fetch(
      new Request("https://x.test/api/v1/_probe/boom"),
      { ...env, ACCESS_TOKEN_TTL_SECONDS: "forever" },
      {
        waitUntil() {},
        passThroughOnException() {},
        props: {},
      } as unknown as ExecutionContext,
    );
    expect(res.status).toBe(503);
    expect((await problem(res)).code).toBe("misconfigured");
  });
});
