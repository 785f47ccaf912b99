/**
 * The simulated `/api/v2` surface: app tokens, institutions, agreements, requisitions and the
 * four account endpoints with GoCardless's errors and limits (docs/providers/gocardless.md).
 */
import { type Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { randomId } from "../../sandbox/tokens";
import { DAY, HOUR, MINUTE } from "../shared/util";
import {
  type AccountClaims,
  type AgreementClaims,
  type AppTokenClaims,
  type GoCardlessContext,
  gcError,
  isGoCardlessScenario,
  type RequisitionClaims,
} from "./context";
import { balancesJson, detailsJson, simAccounts, timelineOf, transactionsJson } from "./data";
import { findInstitution, INSTITUTIONS, institutionJson } from "./institutions";

const SCOPES = ["balances", "details", "transactions"];
const DATE = /^\d{4}-\d{2}-\d{2}$/;

type Env = { Variables: { company: string } };
type AccountEnv = { Variables: { company: string; claims: AccountClaims; id: string } };

async function jsonBody(c: Context): Promise<Record<string, unknown> | null> {
  try {
    const body = (await c.req.json()) as unknown;
    return typeof body === "object" && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

const field = (name: string, summary: string, detail: string) => ({ [name]: { summary, detail }, status_code: 400 });
const iso = (ms: number) => new Date(ms).toISOString();
const short = (id: string) => `${id.slice(0, 12)}…`;

/** The requisition's consent moment: when its link was visited, or null while it is CR. */
export function linkedAt(ctx: GoCardlessContext, r: RequisitionClaims): number | null {
  const visited = ctx.visits.get(r.n);
  if (visited !== undefined) return visited;
  // Not seen here (a restarted dev server): linked at creation once the link would have been used.
  return ctx.now() - r.c > ctx.linkTimeoutMs ? r.c : null;
}

/** The `/api/v2` routes. */
export function apiRoutes(ctx: GoCardlessContext) {
  const app = new Hono<Env>();

  // --- tokens (no bearer) ---
  const tokenPair = async (company: string, now: number, withRefresh: boolean) => {
    const access = await ctx.signer.token("gc-access", {
      token_type: "access",
      exp: Math.floor(now / 1000) + ctx.accessTtlSeconds,
      jti: randomId(),
      company,
    } satisfies AppTokenClaims);
    if (!withRefresh) return { access, access_expires: ctx.accessTtlSeconds };
    const refresh = await ctx.signer.token("gc-refresh", {
      token_type: "refresh",
      exp: Math.floor(now / 1000) + ctx.refreshTtlSeconds,
      jti: randomId(),
      company,
    } satisfies AppTokenClaims);
    return { access, access_expires: ctx.accessTtlSeconds, refresh, refresh_expires: ctx.refreshTtlSeconds };
  };

  app.post("/token/new/", async (c) => {
    const body = await jsonBody(c);
    const id = typeof body?.secret_id === "string" ? body.secret_id : "";
    const key = typeof body?.secret_key === "string" ? body.secret_key : "";
    if (
      !id ||
      !key ||
      (ctx.secretId !== null && id !== ctx.secretId) ||
      (ctx.secretKey !== null && key !== ctx.secretKey)
    ) {
      return c.json(gcError(401, "Authentication failed", "No active account found with the given credentials"), 401);
    }
    const now = ctx.now();
    const mints = ctx.mints.within(id, now, HOUR);
    if (mints.length >= ctx.mintLimitPerHour) {
      const wait = Math.ceil(((mints[0] as number) + HOUR - now) / 1000);
      return c.json(
        gcError(
          429,
          "Rate limit exceeded",
          `The rate limit for this resource is ${ctx.mintLimitPerHour}/hour. Please try again in ${wait} seconds`,
        ),
        429,
      );
    }
    ctx.mints.add(id, now);
    return c.json(await tokenPair(`company:${id}`, now, true), 200);
  });

  app.post("/token/refresh/", async (c) => {
    const body = await jsonBody(c);
    const claims =
      typeof body?.refresh === "string" ? await ctx.signer.readToken<AppTokenClaims>("gc-refresh", body.refresh) : null;
    const now = ctx.now();
    if (!claims || claims.exp * 1000 <= now) {
      return c.json(gcError(401, "Invalid token", "Token is invalid or expired"), 401);
    }
    return c.json(await tokenPair(claims.company, now, false), 200);
  });

  // --- everything else needs a valid access token ---
  app.use("*", async (c, next) => {
    const token = /^Bearer\s+(\S+)$/i.exec(c.req.header("Authorization") ?? "")?.[1];
    const claims = token ? await ctx.signer.readToken<AppTokenClaims>("gc-access", token) : null;
    if (!claims || claims.exp * 1000 <= ctx.now()) {
      return c.json(gcError(401, "Invalid token", "Token is invalid or expired"), 401);
    }
    c.set("company", claims.company);
    await next();
  });

  app.get("/institutions/", (c) => {
    const country = c.req.query("country");
    if (country !== undefined) {
      const code = country.toUpperCase();
      if (!/^[A-Z]{2}$/.test(code)) {
        return c.json(
          field("country", "Invalid country choice.", `${country.slice(0, 8)} is not a valid choice.`),
          400,
        );
      }
      return c.json(INSTITUTIONS.filter((i) => i.countries.includes(code)).map(institutionJson));
    }
    return c.json(INSTITUTIONS.map(institutionJson));
  });

  app.get("/institutions/:id/", (c) => {
    const inst = findInstitution(c.req.param("id"));
    if (!inst) return c.json(gcError(404, "Not found.", "Institution not found"), 404);
    return c.json(institutionJson(inst));
  });

  // --- agreements ---
  const agreementJson = (id: string, a: AgreementClaims) => {
    const accepted = ctx.accepted.get(a.n);
    return {
      id,
      created: iso(a.c),
      institution_id: a.i,
      max_historical_days: a.h,
      access_valid_for_days: accepted?.accessDays ?? a.a,
      access_scope: a.s,
      accepted: accepted ? iso(accepted.at) : null,
    };
  };

  app.post("/agreements/enduser/", async (c) => {
    const body = await jsonBody(c);
    if (!body) return c.json(gcError(400, "Invalid request", "Body must be a JSON object"), 400);
    const inst = typeof body.institution_id === "string" ? findInstitution(body.institution_id) : null;
    if (!inst) return c.json(field("institution_id", "Unknown institution", "Institution id is not valid"), 400);
    const hist = body.max_historical_days ?? 90;
    const access = body.access_valid_for_days ?? 90;
    const scope = body.access_scope ?? SCOPES;
    const maxHist = Math.min(730, inst.acceptsHistoryDays);
    if (typeof hist !== "number" || !Number.isInteger(hist) || hist < 1 || hist > maxHist) {
      return c.json(
        field(
          "max_historical_days",
          "Incorrect max_historical_days",
          `max_historical_days must be > 0 and <= ${maxHist}`,
        ),
        400,
      );
    }
    const maxAccess = Math.min(180, inst.acceptsAccessDays);
    if (typeof access !== "number" || !Number.isInteger(access) || access < 1 || access > maxAccess) {
      return c.json(
        field(
          "access_valid_for_days",
          "Incorrect access_valid_for_days",
          `access_valid_for_days must be > 0 and <= ${maxAccess}`,
        ),
        400,
      );
    }
    if (!Array.isArray(scope) || scope.length === 0 || !scope.every((s) => SCOPES.includes(s as string))) {
      return c.json(
        field("access_scope", "Unknown fields", "Choose one or several of balances, details, transactions"),
        400,
      );
    }
    const claims: AgreementClaims = {
      i: inst.id,
      h: hist,
      a: access,
      s: scope as string[],
      c: ctx.now(),
      n: randomId(),
    };
    const id = await ctx.signer.id("gc-agreement", claims);
    return c.json(agreementJson(id, claims), 201);
  });

  app.get("/agreements/enduser/:id/", async (c) => {
    const id = c.req.param("id");
    const a = await ctx.signer.readId<AgreementClaims>("gc-agreement", id);
    if (!a) return c.json(gcError(404, "Not found.", "End User Agreement not found"), 404);
    return c.json(agreementJson(id, a));
  });

  // --- requisitions ---
  const requisitionJson = async (c: Context, id: string, r: RequisitionClaims) => {
    const at = linkedAt(ctx, r);
    let status = "CR";
    let accounts: string[] = [];
    if (at !== null && r.x === "consent_rejected") status = "RJ";
    else if (at !== null) {
      const ends = at + r.a * DAY;
      status = ctx.now() >= ends ? "EX" : "LN";
      accounts = await Promise.all(
        simAccounts(r.l).map((spec) =>
          ctx.signer.id("gc-account", {
            i: r.i,
            l: r.l,
            k: spec.index,
            x: r.x,
            h: r.h,
            s: r.s,
            c: r.c,
            e: ends,
            q: r.n,
          } satisfies AccountClaims),
        ),
      );
    }
    const base = new URL(c.req.url);
    base.pathname = base.pathname.replace(/\/api\/v2\/requisitions\/.*$/, "");
    base.search = "";
    return {
      id,
      created: iso(r.c),
      redirect: r.r,
      status,
      institution_id: r.i,
      agreement: r.g,
      reference: r.f,
      accounts,
      user_language: r.u,
      link: `${base.toString().replace(/\/$/, "")}/psd2/start/${id}/${r.i}`,
      ssn: null,
      account_selection: false,
      redirect_immediate: false,
    };
  };

  app.post("/requisitions/", async (c) => {
    const body = await jsonBody(c);
    if (!body) return c.json(gcError(400, "Invalid request", "Body must be a JSON object"), 400);
    const inst = typeof body.institution_id === "string" ? findInstitution(body.institution_id) : null;
    if (!inst) return c.json(field("institution_id", "Unknown institution", "Institution id is not valid"), 400);
    let redirect: URL;
    try {
      redirect = new URL(String(body.redirect ?? ""));
      if (redirect.protocol !== "https:" && redirect.protocol !== "http:") throw new Error("scheme");
    } catch {
      return c.json(field("redirect", "Invalid redirect", "Enter a valid URL."), 400);
    }
    const reference = typeof body.reference === "string" && body.reference !== "" ? body.reference : randomId();
    if (reference.length > 256) return c.json(field("reference", "Invalid reference", "At most 256 characters"), 400);
    if (ctx.references.get(reference)) {
      return c.json(
        field(
          "reference",
          "Client reference must be unique",
          `Client reference '${reference.slice(0, 40)}' already exists`,
        ),
        400,
      );
    }
    const scenario = typeof body.ledgerlink_scenario === "string" ? body.ledgerlink_scenario : "default";
    if (!isGoCardlessScenario(scenario)) {
      return c.json(field("ledgerlink_scenario", "Unknown scenario", "Not a simulator scenario"), 400);
    }
    const login = typeof body.ledgerlink_login === "string" ? body.ledgerlink_login : "default";
    if (!/^[A-Za-z0-9._@+-]{1,64}$/.test(login)) {
      return c.json(field("ledgerlink_login", "Invalid login", "1-64 characters of [A-Za-z0-9._@+-]"), 400);
    }
    let agreement: AgreementClaims | null = null;
    let agreementId: string | null = null;
    if (body.agreement !== undefined && body.agreement !== null) {
      agreementId = String(body.agreement);
      agreement = await ctx.signer.readId<AgreementClaims>("gc-agreement", agreementId);
      if (!agreement) return c.json(field("agreement", "Invalid agreement", "Agreement not found"), 400);
      if (agreement.i !== inst.id) {
        return c.json(
          field("agreement", "Incorrect Institution ID", "Agreement was made for another institution"),
          400,
        );
      }
    }
    ctx.references.set(reference, true);
    const claims: RequisitionClaims = {
      i: inst.id,
      g: agreementId,
      h: agreement?.h ?? 90,
      // `short_consent`: the bank grants one day whatever was asked.
      a: scenario === "short_consent" ? 1 : (agreement?.a ?? 90),
      s: agreement?.s ?? SCOPES,
      r: redirect.toString(),
      f: reference,
      l: login,
      x: scenario,
      u: typeof body.user_language === "string" ? body.user_language.slice(0, 8) : null,
      c: ctx.now(),
      n: randomId(),
      m: agreement?.n ?? null,
    };
    const id = await ctx.signer.id("gc-requisition", claims);
    return c.json(await requisitionJson(c, id, claims), 201);
  });

  app.get("/requisitions/:id/", async (c) => {
    const id = c.req.param("id");
    const r = await ctx.signer.readId<RequisitionClaims>("gc-requisition", id);
    if (!r || ctx.deleted.get(r.n)) return c.json(gcError(404, "Not found.", "Requisition not found"), 404);
    return c.json(await requisitionJson(c, id, r));
  });

  app.delete("/requisitions/:id/", async (c) => {
    const r = await ctx.signer.readId<RequisitionClaims>("gc-requisition", c.req.param("id"));
    if (!r || ctx.deleted.get(r.n)) return c.json(gcError(404, "Not found.", "Requisition not found"), 404);
    ctx.deleted.set(r.n, true);
    return c.json({ summary: "Requisition deleted", detail: "Requisition and all end user agreements deleted" });
  });

  // --- accounts ---
  const account = new Hono<AccountEnv>();

  account.use("/:id/*", async (c, next) => {
    const id = c.req.param("id");
    const claims = await ctx.signer.readId<AccountClaims>("gc-account", id);
    // An account of a deleted requisition is gone with it [uncertain: docs/providers/gocardless.md].
    if (!claims || ctx.deleted.get(claims.q)) {
      return c.json(gcError(404, "Not found.", `Account ID ${short(id)} not found`), 404);
    }
    c.set("claims", claims);
    c.set("id", id);
    await next();
  });

  account.get("/:id/", (c) => {
    const claims = c.get("claims");
    const spec = simAccounts(claims.l)[claims.k];
    if (!spec) return c.json(gcError(404, "Not found.", "Account not found"), 404);
    const now = ctx.now();
    const expired = claims.x === "expired" || now >= claims.e;
    return c.json({
      id: c.get("id"),
      created: iso(claims.c),
      last_accessed: iso(now),
      ...(spec.iban ? { iban: spec.iban } : {}),
      institution_id: claims.i,
      status: expired ? "EXPIRED" : "READY",
      owner_name: spec.ownerName,
    });
  });

  const respond = (c: Context, status: number, body: unknown, headers: Record<string, string> = {}) =>
    c.json(body, status as ContentfulStatusCode, headers);

  /** Errors and limits in GoCardless's order, then the answer with its rate-limit headers. */
  const dataCall = (scope: "details" | "balances" | "transactions", build: (c: Context<AccountEnv>) => unknown) =>
    account.get(`/:id/${scope}/`, async (c) => {
      const claims = c.get("claims");
      const now = ctx.now();
      if (claims.x === "expired") {
        return respond(
          c,
          401,
          gcError(
            401,
            "Access has expired or it has been revoked. To restore access reconnect the account.",
            "Access has expired or it has been revoked. To restore access reconnect the account.",
            "AccessExpiredError",
          ),
        );
      }
      if (now >= claims.e) {
        // The three forms seen in the wild, one per scope, so the adapter must match the text.
        if (scope === "transactions") {
          return respond(
            c,
            400,
            gcError(
              400,
              "End User Agreement (EUA) has expired",
              `EUA was valid for ${Math.round((claims.e - claims.c) / DAY)} days and it expired at ${iso(claims.e)}. The end user must re-authorize.`,
            ),
          );
        }
        if (scope === "balances")
          return respond(
            c,
            403,
            gcError(
              403,
              "No valid End User Agreement",
              "The end user has no valid End User Agreement for this account.",
            ),
          );
        return respond(
          c,
          401,
          gcError(
            401,
            "Access has expired or it has been revoked. To restore access reconnect the account.",
            "Access has expired or it has been revoked.",
            "AccessExpiredError",
          ),
        );
      }
      if (!claims.s.includes(scope)) {
        return respond(
          c,
          403,
          gcError(403, "End User Agreement (EUA) access scope error", `The EUA does not include ${scope}.`),
        );
      }
      const company = c.get("company");
      const burst = ctx.burst.within(company, now, MINUTE);
      const companyHeaders = (remaining: number, reset: number) => ({
        http_x_ratelimit_limit: String(ctx.burstLimitPerMinute),
        http_x_ratelimit_remaining: String(remaining),
        http_x_ratelimit_reset: String(reset),
      });
      if (claims.x === "rate_limited" || burst.length >= ctx.burstLimitPerMinute) {
        const wait =
          claims.x === "rate_limited" ? ctx.retryAfterSeconds : Math.ceil(((burst[0] as number) + MINUTE - now) / 1000);
        return respond(
          c,
          429,
          gcError(
            429,
            "Rate limit exceeded",
            `The rate limit for this resource is ${ctx.burstLimitPerMinute}/minute. Please try again in ${wait} seconds`,
          ),
          companyHeaders(0, wait),
        );
      }
      ctx.burst.add(company, now);
      const limit = claims.x === "quota" ? 1 : ctx.accountDailyLimit;
      const key = `${c.get("id")}|${scope}`;
      const used = ctx.successes.within(key, now, DAY);
      const companyNow = companyHeaders(ctx.burstLimitPerMinute - burst.length - 1, 60);
      if (used.length >= limit) {
        const reset = Math.ceil(((used[0] as number) + DAY - now) / 1000);
        return respond(
          c,
          429,
          {
            summary: `Couldn't update account ${scope}`,
            detail: `Daily request limit set by the Institution has been exceeded. The rate limit for this resource is ${limit}/day. Please try again in ${reset} seconds`,
            status_code: 429,
            type: "RateLimitError",
          },
          {
            ...companyNow,
            http_x_ratelimit_account_success_limit: String(limit),
            http_x_ratelimit_account_success_remaining: "0",
            http_x_ratelimit_account_success_reset: String(reset),
          },
        );
      }
      const body = build(c);
      ctx.successes.add(key, now);
      const first = used[0] ?? now;
      return respond(c, 200, body, {
        ...companyNow,
        http_x_ratelimit_account_success_limit: String(limit),
        http_x_ratelimit_account_success_remaining: String(limit - used.length - 1),
        http_x_ratelimit_account_success_reset: String(Math.ceil((first + DAY - now) / 1000)),
      });
    });

  const specOf = (claims: AccountClaims) => simAccounts(claims.l)[claims.k] ?? (simAccounts(claims.l)[0] as never);

  dataCall("details", (c) => detailsJson(specOf(c.get("claims"))));
  dataCall("balances", (c) => {
    const claims = c.get("claims");
    const spec = specOf(claims);
    return balancesJson(spec, timelineOf(claims, spec, ctx), ctx.now());
  });
  dataCall("transactions", (c) => {
    const claims = c.get("claims");
    const spec = specOf(claims);
    const from = c.req.query("date_from") ?? null;
    const to = c.req.query("date_to") ?? null;
    // Clamp to the agreement's history.
    const oldest = new Date(ctx.now() - claims.h * DAY).toISOString().slice(0, 10);
    return transactionsJson(claims, spec, timelineOf(claims, spec, ctx), ctx.now(), {
      from: from === null || from < oldest ? oldest : from,
      to,
    });
  });

  // Date validation runs before the data call's limits, as a refused request spends nothing.
  app.use("/accounts/:id/transactions/", async (c, next) => {
    const from = c.req.query("date_from");
    const to = c.req.query("date_to");
    for (const [name, v] of [
      ["date_from", from],
      ["date_to", to],
    ] as const) {
      if (v !== undefined && (!DATE.test(v) || Number.isNaN(Date.parse(v)))) {
        return c.json(field(name, "Invalid date", `${name} must be YYYY-MM-DD`), 400);
      }
    }
    if (from !== undefined && to !== undefined && from > to) {
      return c.json(
        gcError(400, "Incorrect date range", `Starting date '${from}' is greater than end date '${to}'`),
        400,
      );
    }
    await next();
  });
  app.route("/accounts", account);

  return app;
}
