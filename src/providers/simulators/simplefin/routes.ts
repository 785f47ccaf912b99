/** The simulated Bridge routes: claim, info, create, accounts (see ./index.ts). */
import { type Context, Hono } from "hono";
import { randomId } from "../../sandbox/tokens";
import { DAY, utcDate } from "../shared/util";
import type { AccessClaims, ClaimClaims, SimpleFinContext } from "./context";
import { accountJson, sfAccounts } from "./data";

const MAX_WINDOW_S = 90 * 86_400;
const CAPPED = "Requested date range exceeds limit of 90 days and was capped.";

function basic(header: string | undefined): { user: string; pass: string } | null {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header ?? "");
  if (!m) return null;
  try {
    const text = atob(m[1] as string);
    const colon = text.indexOf(":");
    return colon > 0 ? { user: text.slice(0, colon), pass: text.slice(colon + 1) } : null;
  } catch {
    return null;
  }
}

/** The server root as the client sees it: the request URL up to `suffix`. */
const rootOf = (c: Context, suffix: RegExp) => {
  const url = new URL(c.req.url);
  return { origin: url.origin, host: url.host, protocol: url.protocol, path: url.pathname.replace(suffix, "") };
};

interface Issue {
  code: string;
  msg: string;
  conn_id?: string;
  account_id?: string;
}

/** The routes. */
export function simpleFinRoutes(ctx: SimpleFinContext) {
  const app = new Hono();

  app.post("/claim/:code", async (c) => {
    const code = c.req.param("code");
    let claims: ClaimClaims | null;
    if (code === "demo") claims = { x: "default", l: "demo", c: ctx.now(), n: "demo" };
    else {
      claims = await ctx.signer.readId<ClaimClaims>("sf-claim", code);
      // Unknown or already claimed: 403, and only the status tells (the body changed over time).
      if (!claims || ctx.claimed.get(claims.n)) return c.text("Forbidden (was it already claimed?)", 403);
      ctx.claimed.set(claims.n, true);
    }
    const access: AccessClaims = { x: claims.x, l: claims.l, c: ctx.now(), n: randomId() };
    const pass = await ctx.signer.id("sf-access", access);
    const root = rootOf(c, /\/claim\/[^/]*$/);
    return c.text(`${root.protocol}//sim-${access.n}:${pass}@${root.host}${root.path}\n`, 200);
  });

  app.get("/info", (c) => c.json({ versions: ["1.0"] }));

  app.get("/create", (c) =>
    c.html(
      "<!doctype html><html><head><title>SimpleFIN Bridge (simulated)</title></head><body><p>Ask Ledgerlink's development API for a setup token.</p></body></html>",
    ),
  );

  app.get("/accounts", async (c) => {
    const creds = basic(c.req.header("Authorization"));
    const claims = creds ? await ctx.signer.readId<AccessClaims>("sf-access", creds.pass) : null;
    if (!claims || creds?.user !== `sim-${claims.n}` || ctx.disabled.get(claims.n)) return c.text("Forbidden", 403);
    const now = ctx.now();
    const warnAfter = claims.x === "quota" ? 3 : ctx.quotaWarnAfter;
    const disableAfter = claims.x === "quota" ? 6 : ctx.quotaDisableAfter;
    const counter = `${claims.n}|${utcDate(now)}`;
    const count = (ctx.requests.get(counter) ?? 0) + 1;
    ctx.requests.set(counter, count);
    if (count > disableAfter) {
      ctx.disabled.set(claims.n, true);
      return c.text("Forbidden", 403);
    }

    const q = c.req.query();
    const v2 = q.version === "2";
    const issues: Issue[] = [];
    const int = (v: string | undefined) => (v !== undefined && /^\d{1,12}$/.test(v) ? Number(v) : null);
    if (
      (q["start-date"] !== undefined && int(q["start-date"]) === null) ||
      (q["end-date"] !== undefined && int(q["end-date"]) === null)
    ) {
      return c.text("Invalid start-date or end-date: expected epoch seconds", 400);
    }
    const endS = int(q["end-date"]) ?? Math.floor(now / 1000) + 1;
    let startS = int(q["start-date"]) ?? endS - Math.round((ctx.defaultWindowDays * DAY) / 1000);
    if (endS - startS > MAX_WINDOW_S) {
      // Which end the Bridge trims is [uncertain]; the simulator keeps the latest 90 days.
      startS = endS - MAX_WINDOW_S;
      issues.push({ code: "gen.api", msg: CAPPED });
    }
    if (count > warnAfter) {
      issues.push({
        code: "gen.quota",
        msg: "You are over your daily request quota. Further requests may disable this access.",
      });
    }
    const wanted = c.req.queries("account") ?? [];
    const all = sfAccounts(claims);
    const accounts = all.filter((a) => wanted.length === 0 || wanted.includes(a.id));
    if (claims.x === "partial_errors") {
      const card = all[1];
      if (card) {
        issues.push({
          code: "con.auth",
          msg: `Connection to ${card.conn.name} may need attention`,
          conn_id: card.conn.id,
        });
        issues.push({ code: "act.pendingrefresh", msg: "Account data is being refreshed.", account_id: card.id });
      }
    }
    const query = {
      startMs: startS * 1000,
      endMs: endS * 1000,
      pending: q.pending !== undefined,
      balancesOnly: q["balances-only"] === "1",
      v2,
    };
    const list = accounts.map((a) => accountJson(a, claims, ctx, query));
    if (!v2) return c.json({ errors: issues.map((i) => i.msg), accounts: list });
    const conns = [...new Map(accounts.map((a) => [a.conn.id, a.conn])).values()];
    return c.json({
      errlist: issues.map((i) => ({
        code: i.code,
        msg: i.msg,
        ...(i.conn_id ? { conn_id: i.conn_id } : {}),
        ...(i.account_id ? { account_id: i.account_id } : {}),
      })),
      connections: conns.map((k) => ({
        conn_id: k.id,
        name: k.name,
        org_id: k.orgId,
        org_url: `https://${k.domain}`,
        sfin_url: "https://beta-bridge.simplefin.org/simplefin",
      })),
      accounts: list,
    });
  });

  return app;
}
