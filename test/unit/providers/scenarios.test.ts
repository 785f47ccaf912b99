import { describe, expect, it } from "vitest";
import {
  MalformedResponseError,
  PaymentRequiredError,
  type ProviderError,
  ProviderRejectedError,
  RateLimitedError,
  TransientProviderError,
} from "../../../src/providers/types";
import { adapterFor, connect, DAY, mountSandbox, raw, rejection, T0 } from "./support";

async function setup(scenario: string, sandboxOptions = {}, timeouts?: { connectMs: number; totalMs: number }) {
  const sandbox = mountSandbox(sandboxOptions);
  const adapter = adapterFor(sandbox, { timeouts });
  const tokens = await connect(sandbox, adapter, { scenario });
  return { sandbox, adapter, tokens };
}

describe("sandbox scenarios through the Schwab adapter", () => {
  it("flaky: the first calls fail with 500 (transient), then the same token succeeds", async () => {
    const { adapter, tokens } = await setup("flaky");
    for (let attempt = 1; attempt <= 2; attempt++) {
      const err = await rejection(adapter.accounts(tokens.accessToken));
      expect(err).toBeInstanceOf(TransientProviderError);
      expect((err as ProviderError).status).toBe(500);
      expect((err as ProviderError).correlationId).toMatch(/^[0-9a-f-]{36}$/);
      expect((err as ProviderError).detail).toBe("Internal Server Error; A temporary error occurred, please retry");
    }
    expect(await adapter.accounts(tokens.accessToken)).toHaveLength(2);
  });

  it("flaky: the failure count is configurable and starts afresh for a new access token", async () => {
    const { adapter, tokens } = await setup("flaky", { flakyFailures: 1 });
    expect(await rejection(adapter.accounts(tokens.accessToken))).toBeInstanceOf(TransientProviderError);
    expect(await adapter.accounts(tokens.accessToken)).toHaveLength(2);
    const refreshed = await adapter.refresh(tokens.refreshToken);
    expect(await rejection(adapter.accounts(refreshed.accessToken))).toBeInstanceOf(TransientProviderError);
  });

  it("slow: the adapter's timeout turns the wait into a TransientProviderError", async () => {
    const { adapter, tokens } = await setup("slow", {}, { connectMs: 50, totalMs: 200 });
    const started = Date.now();
    const err = await rejection(adapter.accounts(tokens.accessToken));
    expect(err).toBeInstanceOf(TransientProviderError);
    expect((err as TransientProviderError).timeout).toBe(true);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("slow: a short configured delay within the timeout answers normally", async () => {
    const { adapter, tokens } = await setup("slow", { slowDelayMs: 20 }, { connectMs: 1000, totalMs: 2000 });
    expect(await adapter.accounts(tokens.accessToken)).toHaveLength(2);
  });

  it("slow: the sandbox stops waiting when the client aborts", async () => {
    const { sandbox, tokens } = await setup("slow");
    const controller = new AbortController();
    const started = Date.now();
    const pending = sandbox.fetch("https://sandbox.test/sandbox/trader/v1/accounts", {
      headers: { Authorization: `Bearer ${tokens.accessToken}` },
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 30);
    const res = await pending;
    // The in-process app only settles because the sandbox saw the abort and stopped its 30 s wait.
    expect(Date.now() - started).toBeLessThan(5000);
    expect(res.status).toBe(503);
  });

  it("rate_limited: 429 with Retry-After: 2", async () => {
    const { adapter, tokens } = await setup("rate_limited");
    const err = await rejection(adapter.accounts(tokens.accessToken));
    expect(err).toBeInstanceOf(RateLimitedError);
    expect((err as RateLimitedError).retryAfterSeconds).toBe(2);
    expect((err as ProviderError).detail).toBe("429 Too Many Requests Rate limit exceeded");
  });

  it("payment_required: 402 (Apigee fault body)", async () => {
    const { adapter, tokens } = await setup("payment_required");
    const err = await rejection(adapter.accounts(tokens.accessToken));
    expect(err).toBeInstanceOf(PaymentRequiredError);
    expect((err as ProviderError).detail).toBe("policies.quota.PaymentRequired: Payment Required");
  });

  it("malformed: a 200 with invalid JSON is a MalformedResponseError, on every trader call", async () => {
    const { adapter, tokens } = await setup("malformed");
    expect(await rejection(adapter.accounts(tokens.accessToken))).toBeInstanceOf(MalformedResponseError);
    const err = await rejection(
      adapter.transactions(tokens.accessToken, "A".repeat(64), { start: new Date(T0 - DAY), end: new Date(T0) }),
    );
    expect(err).toBeInstanceOf(MalformedResponseError);
  });

  it("the plain account number is refused; only the hashValue addresses an account", async () => {
    const { sandbox, adapter, tokens } = await setup("default");
    const numbers = (await raw(sandbox, tokens.accessToken, "/accounts/accountNumbers")).body as {
      accountNumber: string;
    }[];
    const plain = numbers[0]?.accountNumber as string;
    const err = await rejection(
      adapter.transactions(tokens.accessToken, plain, { start: new Date(T0 - DAY), end: new Date(T0) }),
    );
    expect(err).toBeInstanceOf(ProviderRejectedError);
    expect((err as ProviderError).status).toBe(400);
    expect((err as ProviderError).detail).toBe("Invalid account number");
    expect(err.message).not.toContain(plain);
  });

  it("revoked and rotating leave data calls alone", async () => {
    for (const scenario of ["revoked", "rotating"]) {
      const { adapter, tokens } = await setup(scenario);
      expect(await adapter.accounts(tokens.accessToken)).toHaveLength(2);
    }
  });
});
