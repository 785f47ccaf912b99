/**
 * Sandbox Trader API routes (`/trader/v1`): Bearer access tokens, scenario faults, then accounts
 * and transactions with Schwab's validation and limits (1-year range, 3,000 items per response).
 */
import { Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { SCHWAB_TRANSACTION_TYPES } from "../schwab-wire";
import { sleep } from "../simulators/shared/util";
import type { SandboxContext } from "./context";
import { accountJson, accountNumbersJson, type SandboxAccount, sandboxAccounts } from "./data";
import { traderFault } from "./scenarios";
import type { AccessClaims } from "./tokens";
import { accountTransactions } from "./transactions";

/** Schwab's per-response cap; more matches are silently dropped. */
export const SANDBOX_MAX_RESULTS = 3000;

// The 15 types Schwab documents (docs/providers/schwab.md); the adapter sends the same list.
const TYPES = new Set<string>(SCHWAB_TRANSACTION_TYPES);

const ISO_Z = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{3}))?Z$/;

/** Epoch ms of `2024-03-28T21:10:42.000Z` (milliseconds optional), or null. */
function parseQueryDate(value: string): number | null {
  const m = ISO_Z.exec(value);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as number[];
  const ms = Date.UTC(y as number, (mo as number) - 1, d, h, mi, s, Number(m[7] ?? 0));
  const check = new Date(ms);
  if (check.getUTCMonth() !== (mo as number) - 1 || check.getUTCDate() !== d || (h as number) > 23) return null;
  return ms;
}

function addOneYear(ms: number): number {
  const d = new Date(ms);
  d.setUTCFullYear(d.getUTCFullYear() + 1);
  return d.getTime();
}

const message = (text: string) => ({ message: text });
// Echo at most a little of a bad value, as Schwab does, without reflecting arbitrary input.
const quote = (v: string) => `'${v.slice(0, 40).replace(/[^\w.:+-]/g, "?")}'`;

type Env = { Variables: { grant: AccessClaims; accounts: SandboxAccount[] } };

/** The `/trader/v1` routes. */
export function traderRoutes(ctx: SandboxContext) {
  const app = new Hono<Env>();

  app.use("*", async (c, next) => {
    c.header("Schwab-Client-CorrelId", crypto.randomUUID());
    const token = /^Bearer\s+(\S+)$/i.exec(c.req.header("Authorization") ?? "")?.[1];
    const claims = token ? await ctx.signer.verify(token, "access") : null;
    if (!claims || claims.exp <= ctx.now()) {
      // The gateway envelope, with the status as a string this time.
      return c.json(
        {
          errors: [
            {
              id: crypto.randomUUID(),
              status: "401",
              title: "Unauthorized",
              detail: "Access token is invalid or expired",
            },
          ],
        },
        401,
      );
    }
    const calls = (ctx.traderCalls.get(claims.jti) ?? 0) + 1;
    ctx.traderCalls.set(claims.jti, calls);
    const fault = traderFault(claims.scenario, calls, ctx);
    if (fault?.kind === "respond") {
      return c.body(fault.body, fault.status as ContentfulStatusCode, {
        "Content-Type": "application/json",
        ...fault.headers,
      });
    }
    if (fault?.kind === "delay" && !(await sleep(fault.ms, c.req.raw.signal))) {
      // The client gave up; nobody reads this.
      return c.body(null, 503);
    }
    c.set("grant", claims);
    c.set("accounts", sandboxAccounts(claims));
    await next();
  });

  app.get("/accounts/accountNumbers", (c) => c.json(accountNumbersJson(c.get("accounts"))));

  const withPositions = (fields: string | undefined) => (fields ?? "").split(",").includes("positions");

  app.get("/accounts", (c) =>
    c.json(c.get("accounts").map((a) => accountJson(a, withPositions(c.req.query("fields"))))),
  );

  const findAccount = (accounts: SandboxAccount[], hash: string) => accounts.find((a) => a.hashValue === hash);

  app.get("/accounts/:hash", (c) => {
    const acct = findAccount(c.get("accounts"), c.req.param("hash"));
    if (!acct) return c.json(message("Invalid account number"), 400);
    return c.json(accountJson(acct, withPositions(c.req.query("fields"))));
  });

  app.get("/accounts/:hash/transactions", (c) => {
    // Only the hashValue addresses an account; the plain number is refused (docs/providers/schwab.md).
    const acct = findAccount(c.get("accounts"), c.req.param("hash"));
    if (!acct) return c.json(message("Invalid account number"), 400);
    const q = c.req.query();
    for (const key of ["startDate", "endDate"] as const) {
      if (q[key] === undefined) return c.json(message(`${key} is required`), 400);
      if (parseQueryDate(q[key]) === null)
        return c.json(message(`${quote(q[key])} is not a valid value for ${key}`), 400);
    }
    const start = parseQueryDate(q.startDate as string) as number;
    const end = parseQueryDate(q.endDate as string) as number;
    if (start > end) return c.json(message("startDate must be before endDate"), 400);
    if (end > addOneYear(start)) return c.json(message("Date range cannot exceed 1 year"), 400);
    if (!q.types) return c.json(message("types is required"), 400);
    for (const t of q.types.split(",")) {
      if (!TYPES.has(t.trim())) return c.json(message(`${quote(t)} is not a valid value for types`), 400);
    }
    const types = new Set(q.types.split(",").map((t) => t.trim()));
    const symbol = q.symbol;
    const items = accountTransactions(c.get("grant"), acct, ctx.now(), ctx)
      .filter((t) => t.at >= start && t.at <= end && types.has(t.json.type as string))
      .filter(
        (t) =>
          !symbol ||
          ((t.json.transferItems ?? []) as { instrument?: { symbol?: string } }[]).some(
            (i) => i.instrument?.symbol === symbol,
          ),
      );
    // Newest first, cut at the cap with no hint that more exist: clients must narrow the window.
    return c.json(items.slice(0, SANDBOX_MAX_RESULTS).map((t) => t.json));
  });

  return app;
}
