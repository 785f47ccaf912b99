import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createProviderHttp, sanitizeDetail, summarizeErrorBody } from "../../../src/providers/http";
import { fixedWindow } from "../../../src/providers/snapshot";
import {
  PaymentRequiredError,
  ProviderRejectedError,
  RateLimitedError,
  ReauthRequiredError,
} from "../../../src/providers/types";
import { adapterFor, connect, DAY, mountSandbox, rejection, T0 } from "./support";

const NOW = new Date(T0);

function client(fetchImpl: typeof fetch) {
  return createProviderHttp({
    provider: "test",
    fetch: fetchImpl,
    timeouts: { connectMs: 500, totalMs: 1000 },
    now: () => NOW,
  });
}

describe("provider http: the additions for GoCardless, SimpleFIN and Alpaca", () => {
  it("exchange() returns the headers with the parsed body", async () => {
    const http = client(
      async () =>
        new Response('{"ok":true}', {
          headers: { "Content-Type": "application/json", HTTP_X_RATELIMIT_REMAINING: "7" },
        }),
    );
    const answer = await http.exchange({
      operation: "probe",
      method: "GET",
      url: "https://api.example.test/x",
      schema: z.object({ ok: z.boolean() }),
    });
    expect(answer.data).toEqual({ ok: true });
    expect(answer.status).toBe(200);
    expect(answer.headers.get("http_x_ratelimit_remaining")).toBe("7");
  });

  it("text() returns a plain-text body as is; form bodies are form-encoded", async () => {
    let seen: Request | null = null;
    const http = client(async (input, init) => {
      seen = new Request(input, init);
      return new Response("https://u:p@bridge.example.test/simplefin\n", { headers: { "Content-Type": "text/plain" } });
    });
    const answer = await http.text({
      operation: "claim",
      method: "POST",
      url: "https://bridge.example.test/claim/x",
      form: { a: "1 2", b: "é" },
    });
    expect(answer.data).toBe("https://u:p@bridge.example.test/simplefin\n");
    const req = seen as unknown as Request;
    expect(req.headers.get("Content-Type")).toBe("application/x-www-form-urlencoded");
    expect(await req.text()).toBe("a=1+2&b=%C3%A9");
  });

  it("DELETE is allowed", async () => {
    let method = "";
    const http = client(async (input, init) => {
      method = new Request(input, init).method;
      return new Response("{}", { headers: { "Content-Type": "application/json" } });
    });
    await http.request({ operation: "del", method: "DELETE", url: "https://x.test/r/1/", schema: z.unknown() });
    expect(method).toBe("DELETE");
  });

  it("a per-request classifier wins, then the client's, then the status table", async () => {
    const fetch402 = async () =>
      new Response('{"summary":"Quota","detail":"spent","status_code":402}', { status: 402 });
    const base = { operation: "x", method: "GET" as const, url: "https://x.test/", schema: z.unknown() };
    expect(await rejection(client(fetch402).request(base))).toBeInstanceOf(PaymentRequiredError);

    const withClient = createProviderHttp({
      provider: "test",
      fetch: fetch402,
      timeouts: { connectMs: 500, totalMs: 1000 },
      classify: (a) => new ReauthRequiredError(a.message, a.info),
    });
    const e1 = await rejection(withClient.request(base));
    expect(e1).toBeInstanceOf(ReauthRequiredError);
    expect((e1 as ReauthRequiredError).detail).toBe("Quota: spent");

    const e2 = await rejection(
      withClient.request({
        ...base,
        classify: (a) => (a.text.includes("spent") ? new ProviderRejectedError("mine", a.info) : null),
      }),
    );
    expect(e2).toBeInstanceOf(ProviderRejectedError);
    expect(e2.message).toBe("mine");
  });

  it("the default 429 carries no reason", async () => {
    const http = client(async () => new Response("slow down", { status: 429, headers: { "Retry-After": "5" } }));
    const err = await rejection(
      http.request({ operation: "x", method: "GET", url: "https://x.test/", schema: z.unknown() }),
    );
    expect(err).toBeInstanceOf(RateLimitedError);
    expect((err as RateLimitedError).retryAfterSeconds).toBe(5);
    expect((err as RateLimitedError).reason).toBeNull();
  });

  it("summarizes GoCardless, field-validation and Alpaca bodies", () => {
    expect(
      summarizeErrorBody('{"summary":"Invalid token","detail":"Token is invalid or expired","status_code":401}', null),
    ).toBe("Invalid token: Token is invalid or expired");
    expect(
      summarizeErrorBody(
        '{"summary":"Couldn\'t update account transactions","detail":"Daily request limit set by the Institution has been exceeded.","type":"RateLimitError"}',
        null,
      ),
    ).toBe(
      "RateLimitError: Couldn't update account transactions: Daily request limit set by the Institution has been exceeded.",
    );
    expect(
      summarizeErrorBody('{"reference":{"summary":"Reference already exists","detail":"x"},"status_code":400}', null),
    ).toBe("reference: Reference already exists");
    expect(summarizeErrorBody('{"code":40110000,"message":"request is not authorized"}', null)).toBe(
      "request is not authorized",
    );
  });

  it("redacts URL userinfo and Basic credentials", () => {
    // Built at run time so the secret scan does not take the fixture for a real credential.
    const userinfo = ["user", "pa55word"].join(":");
    expect(sanitizeDetail(`GET https://${userinfo}@bridge.test/simplefin failed`)).toBe(
      "GET https://[redacted]@bridge.test/simplefin failed",
    );
    expect(sanitizeDetail("Authorization: Basic dXNlcjpwYXNz")).toBe("Authorization: Basic [redacted]");
  });
});

describe("Schwab: the shared snapshot helper", () => {
  it("reads accounts, then each account's transactions from its own start", async () => {
    const sandbox = mountSandbox();
    const adapter = adapterFor(sandbox);
    const tokens = await connect(sandbox, adapter);
    const accounts = await adapter.accounts(tokens.accessToken);
    const [margin, cash] = accounts;
    const starts = new Map([[margin?.providerAccountId as string, new Date(T0 - 30 * DAY)]]);
    const snap = await adapter.snapshot(tokens.accessToken, {
      end: NOW,
      startFor: (id) => starts.get(id) ?? new Date(T0 - 365 * DAY),
    });
    expect(snap.warnings).toEqual([]);
    expect(snap.accounts.map((a) => a.account)).toEqual(accounts);
    expect(snap.accounts.map((a) => a.account.kind)).toEqual(["brokerage", "brokerage"]);
    expect(snap.accounts[0]?.since.getTime()).toBe(T0 - 30 * DAY);
    expect(snap.accounts[1]?.since.getTime()).toBe(T0 - 365 * DAY);
    const full = await adapter.transactions(tokens.accessToken, cash?.providerAccountId as string, {
      start: new Date(T0 - 365 * DAY),
      end: NOW,
    });
    expect(snap.accounts[1]?.transactions).toEqual(full);
    for (const t of snap.accounts[0]?.transactions ?? [])
      expect(t.date.getTime()).toBeGreaterThanOrEqual(T0 - 30 * DAY);
    const all = await adapter.snapshot(tokens.accessToken, fixedWindow(new Date(T0 - 365 * DAY), NOW));
    expect(all.accounts[0]?.transactions.length).toBeGreaterThan(snap.accounts[0]?.transactions.length ?? 0);
  });
});
