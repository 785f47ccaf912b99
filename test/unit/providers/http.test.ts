import { describe, expect, it } from "vitest";
import { z } from "zod";
import type { Logger } from "../../../src/logger";
import { createProviderHttp, parseRetryAfter, sanitizeDetail, summarizeErrorBody } from "../../../src/providers/http";
import {
  MalformedResponseError,
  PaymentRequiredError,
  ProviderError,
  ProviderRejectedError,
  RateLimitedError,
  ReauthRequiredError,
  TransientProviderError,
} from "../../../src/providers/types";
import { rejection } from "./support";

const NOW = new Date(Date.UTC(2026, 10, 1, 12, 0, 0));
const SECRET = "ACCESS-TOKEN-abc123def456ghi789jkl012mno345";

function client(fetchImpl: typeof fetch, timeouts = { connectMs: 500, totalMs: 1000 }, logger?: Logger) {
  return createProviderHttp({
    provider: "schwab",
    fetch: fetchImpl,
    timeouts,
    correlationIdHeader: "Schwab-Client-CorrelId",
    now: () => NOW,
    logger,
  });
}

const reply =
  (status: number, body: string, headers: Record<string, string> = { "Content-Type": "application/json" }) =>
  async () =>
    new Response(body, { status, headers });

const call = (http: ReturnType<typeof client>, extra: { reauthStatuses?: number[] } = {}) =>
  http.request({
    operation: "accounts.list",
    method: "GET",
    url: "https://api.example.test/trader/v1/accounts",
    headers: { Authorization: `Bearer ${SECRET}` },
    schema: z.array(z.object({ id: z.number() })),
    ...extra,
  });

describe("parseRetryAfter (RFC 9110 §10.2.3)", () => {
  it("reads delay-seconds", () => {
    expect(parseRetryAfter("2", NOW)).toBe(2);
    expect(parseRetryAfter(" 120 ", NOW)).toBe(120);
    expect(parseRetryAfter("0", NOW)).toBe(0);
  });

  it("reads HTTP-dates, including the obsolete forms, relative to now", () => {
    expect(parseRetryAfter("Sun, 01 Nov 2026 12:00:30 GMT", NOW)).toBe(30);
    expect(parseRetryAfter("Sunday, 01-Nov-26 12:01:00 GMT", NOW)).toBe(60);
    expect(parseRetryAfter("Sun Nov  1 12:00:05 2026", NOW)).toBe(5);
    expect(parseRetryAfter("Sun, 01 Nov 2026 11:00:00 GMT", NOW)).toBe(0);
  });

  it("gives null for missing or invalid values", () => {
    for (const bad of [null, undefined, "", "-1", "1.5", "soon", "2026-11-01T12:00:30Z", "99999999999999999999"]) {
      expect(parseRetryAfter(bad, NOW)).toBeNull();
    }
  });
});

describe("summarizeErrorBody", () => {
  const nested = JSON.stringify({
    error: "unsupported_token_type",
    error_description: `400 Bad Request: "${JSON.stringify({ error_description: "Exception", error: "refresh_token_authentication_error" })}"`,
  });
  const cases: [string, string, string | null, string][] = [
    [
      "documented {message, errors}",
      '{"message":"Bad request","errors":["startDate invalid"]}',
      null,
      "Bad request; startDate invalid",
    ],
    ["{message} alone", '{"message":"Invalid account number"}', null, "Invalid account number"],
    [
      "gateway envelope, numeric status",
      '{"errors":[{"id":"x","status":429,"title":"Too Many Requests","detail":"slow down"}]}',
      null,
      "429 Too Many Requests slow down",
    ],
    [
      "gateway envelope, string status",
      '{"errors":[{"id":"x","status":"401","title":"Unauthorized","detail":"expired"}]}',
      null,
      "401 Unauthorized expired",
    ],
    [
      "Apigee fault",
      '{"fault":{"faultstring":"Invalid ApiKey","detail":{"errorcode":"oauth.v2.InvalidApiKey"}}}',
      null,
      "oauth.v2.InvalidApiKey: Invalid ApiKey",
    ],
    [
      "OAuth error",
      '{"error":"invalid_client","error_description":"Unauthorized"}',
      null,
      "invalid_client: Unauthorized",
    ],
    ["nested Schwab refresh error", nested, null, "unsupported_token_type (refresh_token_authentication_error)"],
    ["plain text", "Service Unavailable\nmore lines", "text/plain", "Service Unavailable"],
    [
      "HTML page",
      "<html><head><title>Access Denied</title></head><body>…</body></html>",
      "text/html",
      "html page: Access Denied",
    ],
    ["HTML without a content type", "<!DOCTYPE html><html><body>x</body></html>", null, "html page"],
    ["empty body", "  ", null, "empty body"],
    ["unknown JSON", '{"foo":1}', null, "json body"],
  ];
  for (const [name, body, type, expected] of cases) {
    it(`summarizes ${name}`, () => expect(summarizeErrorBody(body, type)).toBe(expected));
  }

  it("redacts token-like runs, bearer values and account numbers, and truncates", () => {
    expect(sanitizeDetail(`token ${SECRET} rejected`)).toBe("token [redacted] rejected");
    expect(sanitizeDetail("Authorization: Bearer abc")).toBe("Authorization: Bearer [redacted]");
    expect(sanitizeDetail("account 12345678 is closed")).toBe("account [redacted] is closed");
    expect(sanitizeDetail("refresh_token_authentication_error")).toBe("refresh_token_authentication_error");
    expect(sanitizeDetail("x".repeat(500)).length).toBe(160);
    expect(sanitizeDetail("a\u0000b\nc")).toBe("a b c");
  });
});

describe("createProviderHttp", () => {
  it("returns schema-validated JSON", async () => {
    expect(await call(client(reply(200, '[{"id":1,"extra":true}]')))).toEqual([{ id: 1 }]);
  });

  const statuses: [number, new (...args: never[]) => ProviderError][] = [
    [400, ProviderRejectedError],
    [401, ReauthRequiredError],
    [402, PaymentRequiredError],
    [403, ProviderRejectedError],
    [404, ProviderRejectedError],
    [408, TransientProviderError],
    [429, RateLimitedError],
    [500, TransientProviderError],
    [502, TransientProviderError],
    [503, TransientProviderError],
    [302, ProviderRejectedError],
  ];
  for (const [status, type] of statuses) {
    it(`maps HTTP ${status} to ${type.name}`, async () => {
      const err = await rejection(
        call(
          client(
            reply(status, '{"message":"nope"}', {
              "Content-Type": "application/json",
              "Schwab-Client-CorrelId": "c0ffee-1",
            }),
          ),
        ),
      );
      expect(err).toBeInstanceOf(type);
      expect(err).toBeInstanceOf(ProviderError);
      expect((err as ProviderError).status).toBe(status);
      expect((err as ProviderError).correlationId).toBe("c0ffee-1");
      expect((err as ProviderError).detail).toBe("nope");
      expect(err.message).not.toContain(SECRET);
    });
  }

  it("treats 400 as re-authorization where the caller says so (token endpoint)", async () => {
    const err = await rejection(call(client(reply(400, '{"error":"invalid_grant"}')), { reauthStatuses: [400, 401] }));
    expect(err).toBeInstanceOf(ReauthRequiredError);
    expect((err as ProviderError).detail).toBe("invalid_grant");
  });

  it("parses Retry-After on 429 as seconds or an HTTP-date", async () => {
    const seconds = await rejection(call(client(reply(429, "", { "Retry-After": "2" }))));
    expect((seconds as RateLimitedError).retryAfterSeconds).toBe(2);
    const date = await rejection(call(client(reply(429, "", { "Retry-After": "Sun, 01 Nov 2026 12:01:00 GMT" }))));
    expect((date as RateLimitedError).retryAfterSeconds).toBe(60);
    const none = await rejection(call(client(reply(429, ""))));
    expect((none as RateLimitedError).retryAfterSeconds).toBeNull();
  });

  it("ignores a correlation id that is not a sane token", async () => {
    const err = await rejection(call(client(reply(500, "", { "Schwab-Client-CorrelId": "<script>" }))));
    expect((err as ProviderError).correlationId).toBeNull();
  });

  it("maps HTML, non-JSON and schema-invalid success bodies to MalformedResponseError", async () => {
    const html = await rejection(
      call(client(reply(200, "<html><title>Login</title></html>", { "Content-Type": "text/html" }))),
    );
    expect(html).toBeInstanceOf(MalformedResponseError);
    expect((html as ProviderError).detail).toBe("html page: Login");

    const truncated = await rejection(call(client(reply(200, '[{"id":'))));
    expect(truncated).toBeInstanceOf(MalformedResponseError);

    const shape = await rejection(call(client(reply(200, '[{"id":"1"}]'))));
    expect(shape).toBeInstanceOf(MalformedResponseError);
    expect((shape as ProviderError).detail).toMatch(/^0\.id: /);
    expect(shape.message).not.toContain('"1"');
  });

  it("maps network failures to TransientProviderError", async () => {
    const err = await rejection(
      call(
        client(async () => {
          throw new TypeError("connection reset");
        }),
      ),
    );
    expect(err).toBeInstanceOf(TransientProviderError);
    expect((err as TransientProviderError).timeout).toBe(false);
    expect((err as ProviderError).status).toBeNull();
  });

  it("times out waiting for headers even when fetch ignores the abort signal", async () => {
    const started = Date.now();
    const err = await rejection(call(client(() => new Promise<Response>(() => {}), { connectMs: 30, totalMs: 5000 })));
    expect(err).toBeInstanceOf(TransientProviderError);
    expect((err as TransientProviderError).timeout).toBe(true);
    expect(err.message).toMatch(/waiting for headers \(30 ms\)/);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("applies the total timeout to a body that never ends", async () => {
    const stalled = async () =>
      new Response(new ReadableStream({ start: (ctl) => ctl.enqueue(new TextEncoder().encode("[")) }), {
        status: 200,
        headers: { "Content-Type": "application/json" },
      });
    const err = await rejection(call(client(stalled, { connectMs: 1000, totalMs: 60 })));
    expect(err).toBeInstanceOf(TransientProviderError);
    expect(err.message).toMatch(/after 60 ms/);
  });

  it("cancels the first-byte timer once headers arrive (a slow body within the total is fine)", async () => {
    const slowBody = async () => {
      const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
      const writer = writable.getWriter();
      setTimeout(async () => {
        await writer.write(new TextEncoder().encode('[{"id":7}]'));
        await writer.close();
      }, 80);
      return new Response(readable, { status: 200, headers: { "Content-Type": "application/json" } });
    };
    expect(await call(client(slowBody, { connectMs: 30, totalMs: 2000 }))).toEqual([{ id: 7 }]);
  });

  it("passes an abort signal to fetch and does not follow redirects", async () => {
    let init: RequestInit | undefined;
    await call(
      client(async (_input, i) => {
        init = i;
        return new Response("[]", { status: 200 });
      }),
    );
    expect(init?.signal).toBeInstanceOf(AbortSignal);
    expect(init?.redirect).toBe("manual");
  });

  it("logs status and correlation id, never the token", async () => {
    const lines: string[] = [];
    const logger: Logger = {
      debug: (m, f) => lines.push(JSON.stringify({ m, ...f })),
      info: (m, f) => lines.push(JSON.stringify({ m, ...f })),
      warn: (m, f) => lines.push(JSON.stringify({ m, ...f })),
      error: (m, f) => lines.push(JSON.stringify({ m, ...f })),
      with: () => logger,
    };
    await call(client(reply(200, "[]"), undefined, logger));
    await rejection(
      call(
        client(
          reply(401, `{"message":"bad token ${SECRET}"}`, { "Schwab-Client-CorrelId": "corr-9" }),
          undefined,
          logger,
        ),
      ),
    );
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain("corr-9");
    for (const line of lines) expect(line).not.toContain(SECRET);
  });
});

describe("answer size", () => {
  const capped = (fetchImpl: typeof fetch) =>
    createProviderHttp({
      provider: "simplefin",
      fetch: fetchImpl,
      timeouts: { connectMs: 500, totalMs: 1000 },
      now: () => NOW,
      maxAnswerBytes: 1024,
    });

  it("refuses an answer past the cap, declared or streamed, as malformed; reads one within it", async () => {
    const declared = await rejection(
      call(capped(reply(200, "[]", { "Content-Type": "application/json", "Content-Length": "999999" }))),
    );
    expect(declared).toBeInstanceOf(MalformedResponseError);
    expect((declared as Error).message).toMatch(/larger than the 1024 bytes/);

    // A stream that never says how long it is, and would go on for ever.
    let sent = 0;
    const endless = async () =>
      new Response(
        new ReadableStream({
          pull(controller) {
            sent += 512;
            controller.enqueue(new TextEncoder().encode(" ".repeat(512)));
          },
        }),
        { status: 200, headers: { "Content-Type": "application/json" } },
      );
    expect(await rejection(call(capped(endless)))).toBeInstanceOf(MalformedResponseError);
    expect(sent).toBeLessThanOrEqual(2048);

    expect(await call(capped(reply(200, '[{"id":1}]')))).toEqual([{ id: 1 }]);
  });
});

describe("call metrics", () => {
  it("report each call's own status, even for calls in flight together", async () => {
    const seen: { operation: string; status: number | null }[] = [];
    const http = createProviderHttp({
      provider: "gocardless",
      timeouts: { connectMs: 500, totalMs: 1000 },
      now: () => NOW,
      hooks: { afterCall: (c) => void seen.push({ operation: c.operation, status: c.status }) },
      // The slow call's headers (203) arrive first and its body last; the quick call (200) starts
      // and ends in between: a shared "last status" would report 200 for both.
      fetch: async (input) => {
        const headers = { "Content-Type": "application/json" };
        if (!String(input).endsWith("/slow")) {
          await new Promise((r) => setTimeout(r, 5));
          return new Response("[]", { status: 200, headers });
        }
        const late = new ReadableStream({
          async start(controller) {
            await new Promise((r) => setTimeout(r, 30));
            controller.enqueue(new TextEncoder().encode("[]"));
            controller.close();
          },
        });
        return new Response(late, { status: 203, headers });
      },
    });
    const get = (operation: string, path: string) =>
      http.request({ operation, method: "GET", url: `https://api.example.test${path}`, schema: z.array(z.never()) });
    await Promise.all([get("slow", "/slow"), get("quick", "/quick")]);
    expect(seen.sort((a, b) => a.operation.localeCompare(b.operation))).toEqual([
      { operation: "quick", status: 200 },
      { operation: "slow", status: 203 },
    ]);
  });
});
