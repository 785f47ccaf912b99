/** The simulated Alpaca surface: OAuth authorize and token, and the `/v2` data routes (see ./index.ts). */
import { type Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { randomId } from "../../sandbox/tokens";
import {
  type AlpacaContext,
  type AlpacaSimEnv,
  alpacaError,
  type CodeClaims,
  isAlpacaScenario,
  type TokenClaims,
} from "./context";
import { accountJson, activities, positions } from "./data";

const LOGIN = /^[A-Za-z0-9._@+-]{1,64}$/;

/** `GET /authorize`: consents at once. */
export function authorizeRoutes(ctx: AlpacaContext) {
  const app = new Hono();
  app.get("/authorize", async (c) => {
    const q = c.req.query();
    if (!q.client_id || (ctx.clientId !== null && q.client_id !== ctx.clientId)) {
      return c.json(alpacaError(40010000, "invalid client_id"), 400);
    }
    let redirect: URL;
    try {
      redirect = new URL(q.redirect_uri ?? "");
      if (redirect.protocol !== "https:" && redirect.protocol !== "http:") throw new Error("scheme");
    } catch {
      return c.json(alpacaError(40010000, "invalid redirect_uri"), 400);
    }
    const back = (params: Record<string, string>) => {
      for (const [k, v] of Object.entries(params)) redirect.searchParams.set(k, v);
      if (q.state !== undefined) redirect.searchParams.set("state", q.state);
      return c.redirect(redirect.toString(), 302);
    };
    if (q.response_type !== "code")
      return back({ error: "unsupported_response_type", error_description: "response_type must be code" });
    const scenario = q.scenario ?? "default";
    if (!isAlpacaScenario(scenario)) return back({ error: "invalid_request", error_description: "unknown scenario" });
    const login = q.login ?? "default";
    if (!LOGIN.test(login)) return back({ error: "invalid_request", error_description: "invalid login" });
    // `env` is what Alpaca's own CLI sends [uncertain]; a login is paper unless it asks otherwise.
    const env = q.env ?? "paper";
    const envs: AlpacaSimEnv[] | null =
      env === "paper" ? ["paper"] : env === "live" ? ["live"] : env === "both" ? ["live", "paper"] : null;
    if (!envs) return back({ error: "invalid_request", error_description: "env must be live, paper or both" });
    const now = ctx.now();
    const code = await ctx.signer.id("alpaca-code", {
      x: scenario,
      l: login,
      envs,
      at: now,
      cid: q.client_id,
      exp: now + ctx.codeTtlSeconds * 1000,
      n: randomId(),
      r: q.redirect_uri as string,
    } satisfies CodeClaims);
    return back({ code });
  });
  return app;
}

/** `POST /oauth/token`: form-encoded only, client credentials in the form. */
export function tokenRoutes(ctx: AlpacaContext) {
  const app = new Hono();
  app.post("/oauth/token", async (c) => {
    const invalidClient = () => c.json(alpacaError(40110000, "invalid_client"), 401);
    if (!(c.req.header("Content-Type") ?? "").toLowerCase().startsWith("application/x-www-form-urlencoded")) {
      return invalidClient();
    }
    const form = new URLSearchParams(new TextDecoder().decode(await c.req.arrayBuffer()));
    const id = form.get("client_id") ?? "";
    const secret = form.get("client_secret") ?? "";
    if (
      !id ||
      !secret ||
      (ctx.clientId !== null && id !== ctx.clientId) ||
      (ctx.clientSecret !== null && secret !== ctx.clientSecret)
    ) {
      return invalidClient();
    }
    if (form.get("grant_type") !== "authorization_code")
      return c.json(alpacaError(40010000, "unsupported grant_type"), 400);
    const claims = await ctx.signer.readId<CodeClaims>("alpaca-code", form.get("code") ?? "");
    const now = ctx.now();
    // [uncertain] how Alpaca answers a bad code; any non-200 means "start again".
    if (!claims || claims.exp <= now || claims.cid !== id || ctx.usedCodes.get(claims.n)) {
      return c.json(alpacaError(40010000, "invalid authorization code"), 400);
    }
    if (form.get("redirect_uri") !== claims.r) return c.json(alpacaError(40010000, "redirect_uri mismatch"), 400);
    ctx.usedCodes.set(claims.n, true);
    const token = await ctx.signer.id("alpaca-token", {
      x: claims.x,
      l: claims.l,
      envs: claims.envs,
      at: claims.at,
      cid: claims.cid,
      n: randomId(),
    } satisfies TokenClaims);
    c.header("Cache-Control", "no-store");
    return c.json({ access_token: token, token_type: "bearer", scope: "" });
  });
  return app;
}

type Env = { Variables: { claims: TokenClaims } };

/** The `/v2` routes of one environment. */
export function dataRoutes(ctx: AlpacaContext, env: AlpacaSimEnv) {
  const app = new Hono<Env>();
  const fail = (c: Context, status: number, code: number, message: string) =>
    c.json(alpacaError(code, message), status as ContentfulStatusCode);

  app.use("*", async (c, next) => {
    const now = ctx.now();
    const token = /^Bearer\s+(\S+)$/i.exec(c.req.header("Authorization") ?? "")?.[1];
    const claims = token ? await ctx.signer.readId<TokenClaims>("alpaca-token", token) : null;
    const minute = Math.floor(now / 60_000);
    const key = `${claims?.n ?? "anonymous"}|${minute}`;
    const used = (ctx.requests.get(key) ?? 0) + 1;
    ctx.requests.set(key, used);
    c.header("X-RateLimit-Limit", String(ctx.rateLimitPerMinute));
    c.header("X-RateLimit-Remaining", String(Math.max(0, ctx.rateLimitPerMinute - used)));
    c.header("X-RateLimit-Reset", String((minute + 1) * 60));
    if (used > ctx.rateLimitPerMinute) return fail(c, 429, 42910000, "too many requests");
    if (!claims || (claims.x === "revoked" && now >= claims.at + ctx.revokeAfterMs)) {
      return fail(c, 401, 40110000, "request is not authorized");
    }
    // [uncertain] the status of a wrong-environment answer; the text is the one seen in the wild.
    if (!claims.envs.includes(env)) return fail(c, 403, 40310000, "access token is not authorized for this scope");
    c.set("claims", claims);
    await next();
  });

  app.get("/account", (c) => c.json(accountJson(c.get("claims"), env, ctx, ctx.now())));
  app.get("/positions", (c) => c.json(positions(c.get("claims"), env)));
  app.get("/positions/:symbol", (c) => {
    const p = positions(c.get("claims"), env).find(
      (x) => x.symbol === c.req.param("symbol") || x.asset_id === c.req.param("symbol"),
    );
    return p ? c.json(p) : fail(c, 404, 40410000, "position does not exist");
  });

  const list = (c: Context<Env>, type: string | null) => {
    const q = c.req.query();
    const size = q.page_size === undefined ? 100 : Number(q.page_size);
    if (!Number.isInteger(size) || size < 1 || size > 100)
      return fail(c, 422, 42210000, "page_size must be between 1 and 100");
    if (q.direction !== undefined && q.direction !== "asc" && q.direction !== "desc")
      return fail(c, 422, 42210000, "invalid direction");
    if (q.activity_types !== undefined && q.category !== undefined)
      return fail(c, 422, 42210000, "activity_types and category are exclusive");
    const time = (v: string | undefined): number | null | "bad" => {
      if (v === undefined) return null;
      const ms = /^\d{4}-\d{2}-\d{2}$/.test(v) ? Date.parse(`${v}T00:00:00Z`) : Date.parse(v);
      return Number.isFinite(ms) && /^\d{4}-\d{2}-\d{2}/.test(v) ? ms : "bad";
    };
    const after = time(q.after);
    const until = time(q.until);
    if (after === "bad" || until === "bad") return fail(c, 422, 42210000, "invalid date");
    const types = type ? [type] : q.activity_types?.split(",").map((t) => t.trim().toUpperCase());
    let rows = activities(c.get("claims"), env, ctx, ctx.now()).filter(
      (a) =>
        (after === null || a.at > after) &&
        (until === null || a.at <= until) &&
        (!types || types.includes(a.json.activity_type as string)) &&
        (q.category === undefined || (q.category === "trade_activity") === (a.json.activity_type === "FILL")),
    );
    if (q.direction !== "asc") rows = rows.reverse();
    if (q.page_token) {
      const i = rows.findIndex((a) => a.id === q.page_token);
      rows = i === -1 ? [] : rows.slice(i + 1);
    }
    return c.json(rows.slice(0, size).map((a) => a.json));
  };
  app.get("/account/activities", (c) => list(c, null));
  app.get("/account/activities/:type", (c) => list(c, c.req.param("type").toUpperCase()));
  return app;
}
