import { describe, expect, it } from "vitest";
import { createSandboxApp, SCENARIOS } from "../../../src/providers/sandbox";
import { SCHWAB_TRANSACTION_TYPES } from "../../../src/providers/schwab-wire";
import { adapterFor, BASE_URL, connect, DAY, mountSandbox, raw, T0 } from "./support";

const ALL_TYPES = SCHWAB_TRANSACTION_TYPES.join(",");

async function session(scenario?: string) {
  const sandbox = mountSandbox();
  const adapter = adapterFor(sandbox);
  const tokens = await connect(sandbox, adapter, { scenario });
  const numbers = (await raw(sandbox, tokens.accessToken, "/accounts/accountNumbers")).body as {
    accountNumber: string;
    hashValue: string;
  }[];
  return { sandbox, adapter, tokens, numbers };
}

const iso = (ms: number) => new Date(ms).toISOString();

describe("sandbox HTTP surface", () => {
  it("lists every scenario docs/contract.md names", () => {
    expect([...SCENARIOS].sort()).toEqual(
      [
        "default",
        "large",
        "empty",
        "flaky",
        "slow",
        "rate_limited",
        "payment_required",
        "revoked",
        "rotating",
        "malformed",
        "pending_to_posted",
      ].sort(),
    );
  });

  it("serves relative routes (mountable anywhere) and 404s unknown paths", async () => {
    const app = createSandboxApp();
    expect((await app.fetch(new Request("https://x.test/v1/oauth/authorize"))).status).toBe(400);
    expect((await app.fetch(new Request("https://x.test/nope"))).status).toBe(404);
  });

  it("refuses trader calls without a valid Bearer token (gateway envelope)", async () => {
    const { sandbox } = await session();
    for (const auth of [undefined, "Bearer nope", "Basic abc"]) {
      const res = await sandbox.fetch(`${BASE_URL}/trader/v1/accounts`, {
        headers: auth ? { Authorization: auth } : {},
      });
      expect(res.status).toBe(401);
      const body = (await res.json()) as { errors: { status: string; title: string }[] };
      expect(body.errors[0]).toMatchObject({ status: "401", title: "Unauthorized" });
      expect(res.headers.get("Schwab-Client-CorrelId")).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it("tokens from a sandbox with another secret are refused", async () => {
    const { tokens } = await session();
    const other = mountSandbox({ secret: "another-secret" });
    expect((await raw(other, tokens.accessToken, "/accounts")).status).toBe(401);
  });

  it("answers the account shapes of real traffic", async () => {
    const { sandbox, tokens, numbers } = await session();
    const { body } = await raw(sandbox, tokens.accessToken, "/accounts?fields=positions");
    const accounts = body as {
      securitiesAccount: Record<string, unknown> & {
        positions?: Record<string, unknown>[];
        currentBalances: Record<string, unknown>;
      };
      aggregatedBalance: Record<string, number>;
    }[];
    expect(accounts).toHaveLength(2);
    const [margin, cash] = accounts;
    expect(margin?.securitiesAccount.type).toBe("MARGIN");
    expect(cash?.securitiesAccount.type).toBe("CASH");
    expect(margin?.securitiesAccount).not.toHaveProperty("hashValue");
    expect(margin?.securitiesAccount.accountNumber).toBe(numbers[0]?.accountNumber);
    expect(margin?.aggregatedBalance).toHaveProperty("liquidationValue");
    expect(margin?.securitiesAccount.currentBalances.isInCall).toBe(false);
    expect(Number.isInteger(margin?.securitiesAccount.currentBalances.sma)).toBe(true);
    expect(cash?.securitiesAccount.currentBalances).not.toHaveProperty("cashBalance");
    const short = margin?.securitiesAccount.positions?.find((p) => (p.shortQuantity as number) > 0);
    expect(short?.settledShortQuantity as number).toBeLessThan(0);
    expect(short?.marketValue as number).toBeLessThan(0);

    const without = (await raw(sandbox, tokens.accessToken, "/accounts")).body as typeof accounts;
    expect(without[0]?.securitiesAccount).not.toHaveProperty("positions");

    const one = await raw(sandbox, tokens.accessToken, `/accounts/${numbers[1]?.hashValue}?fields=positions`);
    expect(one.body).toEqual(cash);
    const plain = await raw(sandbox, tokens.accessToken, `/accounts/${numbers[1]?.accountNumber}`);
    expect(plain).toMatchObject({ status: 400, body: { message: "Invalid account number" } });
  });

  it("validates transaction queries like Schwab", async () => {
    const { sandbox, tokens, numbers } = await session();
    const hash = numbers[0]?.hashValue as string;
    const q = (params: Record<string, string>) =>
      raw(sandbox, tokens.accessToken, `/accounts/${hash}/transactions?${new URLSearchParams(params)}`);
    const good = { startDate: iso(T0 - 30 * DAY), endDate: iso(T0), types: ALL_TYPES };

    expect((await q(good)).status).toBe(200);
    // Without milliseconds is accepted too.
    expect((await q({ ...good, startDate: iso(T0 - 30 * DAY).replace(".000Z", "Z") })).status).toBe(200);
    const bad = await q({ ...good, startDate: "2024-13-01" });
    expect(bad).toMatchObject({ status: 400, body: { message: "'2024-13-01' is not a valid value for startDate" } });
    expect((await q({ ...good, endDate: "2025-01-14T05:15:12+0000" })).status).toBe(400);
    expect((await q({ startDate: good.startDate, endDate: good.endDate })).body).toEqual({
      message: "types is required",
    });
    expect((await q({ ...good, types: "TRADE,BOGUS" })).status).toBe(400);
    expect((await q({ ...good, startDate: iso(T0), endDate: iso(T0 - DAY) })).status).toBe(400);
    // Exactly a year is fine (a leap year included); a second more is refused.
    const leapStart = Date.UTC(2024, 0, 1);
    expect((await q({ ...good, startDate: iso(leapStart), endDate: iso(Date.UTC(2025, 0, 1)) })).status).toBe(200);
    const tooLong = await q({ ...good, startDate: iso(leapStart), endDate: iso(Date.UTC(2025, 0, 1, 0, 0, 1)) });
    expect(tooLong.status).toBe(400);
  });

  it("filters by type and symbol", async () => {
    const { sandbox, tokens, numbers } = await session();
    const hash = numbers[0]?.hashValue as string;
    const base = { startDate: iso(T0 - 365 * DAY), endDate: iso(T0) };
    const trades = (
      await raw(
        sandbox,
        tokens.accessToken,
        `/accounts/${hash}/transactions?${new URLSearchParams({ ...base, types: "TRADE" })}`,
      )
    ).body as { type: string }[];
    expect(trades.length).toBeGreaterThan(0);
    expect(trades.every((t) => t.type === "TRADE")).toBe(true);
    const aapl = (
      await raw(
        sandbox,
        tokens.accessToken,
        `/accounts/${hash}/transactions?${new URLSearchParams({ ...base, types: ALL_TYPES, symbol: "AAPL" })}`,
      )
    ).body as { transferItems: { instrument: { symbol: string } }[] }[];
    expect(aapl.length).toBeGreaterThan(0);
    expect(aapl.every((t) => t.transferItems.some((i) => i.instrument.symbol === "AAPL"))).toBe(true);
  });

  it("serves Schwab-shaped transaction items, fee legs first", async () => {
    const { sandbox, tokens, numbers } = await session();
    const query = new URLSearchParams({ startDate: iso(T0 - 365 * DAY), endDate: iso(T0), types: "TRADE" });
    const items = (await raw(sandbox, tokens.accessToken, `/accounts/${numbers[0]?.hashValue}/transactions?${query}`))
      .body as Record<string, unknown>[];
    const trade = items.find((t) => t.status === "VALID") as Record<string, unknown> & {
      transferItems: { instrument: { assetType: string; symbol: string }; feeType?: string }[];
    };
    expect(trade.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+0000$/);
    expect(trade.tradeDate).toBe(trade.time);
    expect(trade.accountNumber).toBe(numbers[0]?.accountNumber);
    expect(typeof trade.activityId).toBe("number");
    expect(trade.transferItems[0]?.instrument).toMatchObject({ assetType: "CURRENCY", symbol: "CURRENCY_USD" });
    expect(trade.transferItems[0]?.feeType).toBeDefined();
    expect(trade.transferItems.at(-1)?.instrument.assetType).not.toBe("CURRENCY");
    // Optional fields really are optional: some trades lack settlementDate and description.
    expect(items.some((t) => !("settlementDate" in t))).toBe(true);
    expect(items.some((t) => !("description" in t))).toBe(true);
  });

  it("large: caps each response at 3,000 items, newest first", async () => {
    const { sandbox, tokens, numbers } = await session("large");
    const query = new URLSearchParams({ startDate: iso(T0 - 365 * DAY), endDate: iso(T0), types: ALL_TYPES });
    const items = (await raw(sandbox, tokens.accessToken, `/accounts/${numbers[0]?.hashValue}/transactions?${query}`))
      .body as { time: string }[];
    expect(items).toHaveLength(3000);
    const times = items.map((t) => Date.parse(t.time.replace("+0000", "Z")));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
  });

  it("hides transactions dated after the sandbox clock", async () => {
    const { sandbox, adapter, tokens, numbers } = await session();
    const query = new URLSearchParams({ startDate: iso(T0), endDate: iso(T0 + 30 * DAY), types: ALL_TYPES });
    const path = `/accounts/${numbers[0]?.hashValue}/transactions?${query}`;
    expect((await raw(sandbox, tokens.accessToken, path)).body).toEqual([]);
    sandbox.clock.advance(DAY);
    const { accessToken } = await adapter.refresh(tokens.refreshToken);
    expect((await raw(sandbox, accessToken, path)).body).toHaveLength(1);
  });

  it("token responses are not cacheable and carry Schwab's fields", async () => {
    const sandbox = mountSandbox();
    const adapter = adapterFor(sandbox);
    const tokens = await connect(sandbox, adapter);
    const res = await sandbox.fetch(`${BASE_URL}/v1/oauth/token`, {
      method: "POST",
      headers: {
        Authorization: `Basic ${btoa("sandbox-app-key:sandbox-app-secret")}`,
        "Content-Type": "application/x-www-form-urlencoded",
      },
      body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: tokens.refreshToken }).toString(),
    });
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual([
      "access_token",
      "expires_in",
      "id_token",
      "refresh_token",
      "scope",
      "token_type",
    ]);
    expect(body).toMatchObject({ expires_in: 1800, token_type: "Bearer", scope: "api" });
  });
});
