/**
 * SimpleFIN Bridge adapter (docs/providers/simplefin.md). The user pays the Bridge and hands us a
 * setup token; claiming it gives an access URL, which is the connection's credential. A snapshot
 * reads every account in one call of the latest 90 days, then older 90-day chunks only for the
 * accounts whose window reaches further back (`account=` filters).
 */

import { decimalDiv, decimalIsZero } from "../../home/money";
import type { Logger } from "../../logger";
import { createProviderHttp, type FailedAnswer, type HttpTimeouts, type ProviderHooks, parseRetryAfter } from "../http";
import {
  type AccountKind,
  MalformedResponseError,
  PaymentRequiredError,
  type ProviderAccount,
  type ProviderError,
  type ProviderHolding,
  type ProviderSnapshot,
  type ProviderTransaction,
  type ProviderWarning,
  RateLimitedError,
  ReauthRequiredError,
  type SnapshotSource,
  type SnapshotWindow,
} from "../types";
import { claimSetupToken, defaultSimpleFinUrlPolicy, parseAccessUrl, type SimpleFinUrlPolicy } from "./setup-token";
import { type AccountSet, AccountSetSchema, type SfAccount, type SfTransaction } from "./wire";

/** Options for `createSimpleFinAdapter`. */
export interface SimpleFinAdapterOptions {
  fetch: typeof fetch;
  timeouts: HttpTimeouts;
  /** Which hosts setup tokens and access URLs may name (default: https, no IP literals or local names). */
  urlPolicy?: SimpleFinUrlPolicy;
  now?: () => Date;
  logger?: Logger;
  /** Outbound limits and call metrics (src/providers/http.ts). */
  hooks?: ProviderHooks;
}

/** The Bridge's largest window per request (end − start ≤ 90 days). */
export const SIMPLEFIN_MAX_WINDOW_SECONDS = 90 * 86_400;

const KNOWN_CODES = new Set(["gen", "gen.api", "gen.auth", "con", "con.auth", "act", "act.failed", "act.missingdata"]);
const NEEDS_ATTENTION = /may need attention|re-?authenticat|answers? (?:were|was) not provided in time/i;

/** What SimpleFIN's failures mean (docs/providers/simplefin.md "GET {access}/accounts"). */
function classifySimpleFin(a: FailedAnswer): ProviderError | null {
  const html = /html/i.test(a.headers.get("Content-Type") ?? "") || /^\s*</.test(a.text);
  if (a.status === 403 || a.status === 401) {
    // The access URL was revoked, disabled by the quota, or is wrong: only a new setup token helps.
    return new ReauthRequiredError(a.message, { ...a.info, detail: `access_revoked: ${a.detail}` });
  }
  if (a.status === 402) return new PaymentRequiredError(a.message, a.info);
  if (a.status === 429) {
    // A JSON or text 429 is the Bridge's quota; an HTML one is a proxy's IP throttle [uncertain].
    return new RateLimitedError(a.message, parseRetryAfter(a.headers.get("Retry-After"), a.now), {
      ...a.info,
      reason: html ? "burst" : "daily_quota",
    });
  }
  return null;
}

/** A warning from one errlist/errors entry: our own words, never the Bridge's text. */
export function warningOf(
  entry: { code?: string; text: string; connId?: string; accountId?: string },
  connections: Map<string, string>,
): ProviderWarning {
  const given = entry.code ?? "";
  let code = KNOWN_CODES.has(given) ? given : given.split(".")[0] || "gen";
  if (!["gen", "con", "act"].includes(code.split(".")[0] as string)) code = "gen";
  if (/quota|too many requests/i.test(entry.text)) code = "quota";
  else if (!given && NEEDS_ATTENTION.test(entry.text)) code = "con.auth";
  const reauth = code === "con.auth" || code === "gen.auth" || NEEDS_ATTENTION.test(entry.text);
  const where = entry.connId ? connections.get(entry.connId) : undefined;
  const named = where ? ` (${where.replace(/[^\p{L}\p{N} .&'-]/gu, "").slice(0, 60)})` : "";
  const messages: Record<string, string> = {
    quota:
      "SimpleFIN Bridge reports its daily request quota is nearly used up; syncing less often avoids losing access.",
    "gen.api": "SimpleFIN Bridge adjusted the request (for example, capped the date range).",
    "gen.auth": "SimpleFIN Bridge reports an authentication problem; the login may need attention at the Bridge.",
    "con.auth": `A bank login at SimpleFIN Bridge needs attention${named}: sign in to the Bridge to fix it.`,
    con: `SimpleFIN Bridge reports a problem with a bank connection${named}.`,
    "act.failed": "SimpleFIN Bridge could not update an account.",
    "act.missingdata": "SimpleFIN Bridge's listing of an account is incomplete; it will retry later.",
    act: "SimpleFIN Bridge reports a problem with an account.",
    gen: "SimpleFIN Bridge reported a problem.",
  };
  return {
    code,
    message:
      reauth && code !== "con.auth" && code !== "gen.auth"
        ? (messages["con.auth"] as string)
        : (messages[code] ?? (messages.gen as string)),
    providerAccountId: entry.accountId ?? null,
    ...(reauth ? { reauth: true } : {}),
  };
}

/** Warnings of one answer, v2 `errlist` first, then v1 `errors`. */
function warningsOf(set: AccountSet): ProviderWarning[] {
  const connections = new Map((set.connections ?? []).map((c) => [c.conn_id, c.name ?? ""]));
  const out = (set.errlist ?? []).map((e) =>
    warningOf(
      { code: e.code, text: e.msg ?? e.message ?? "", connId: e.conn_id, accountId: e.account_id },
      connections,
    ),
  );
  // While servers migrate, v2 answers may repeat the same problems in errors[]: only use them alone.
  if (out.length === 0) for (const text of set.errors ?? []) out.push(warningOf({ text }, connections));
  return out;
}

const CARD = /credit|\bcard\b|visa|mastercard|master card|amex|american express|discover/i;

/**
 * SimpleFIN has no account type. Conservatively: a name (or `extra` type) saying credit/card/a card
 * network → credit_card, unless it says debit; holdings → brokerage; "savings" → savings; "loan",
 * "mortgage" → loan; otherwise checking when the balance is not negative, else other.
 */
export function inferKind(a: Pick<SfAccount, "name" | "balance" | "holdings" | "extra">): AccountKind {
  const hint = [
    a.name,
    typeof a.extra?.type === "string" ? a.extra.type : "",
    typeof a.extra?.account_type === "string" ? a.extra.account_type : "",
  ].join(" ");
  if (CARD.test(hint) && !/debit/i.test(hint)) return "credit_card";
  if ((a.holdings?.length ?? 0) > 0 || /brokerage|invest|\bira\b|401\(?k/i.test(hint)) return "brokerage";
  if (/savings/i.test(hint)) return "savings";
  if (/\bloan\b|mortgage/i.test(hint)) return "loan";
  return a.balance.startsWith("-") ? "other" : "checking";
}

const maskOf = (id: string) => {
  const tail = id.replace(/[^A-Za-z0-9]/g, "").slice(-4);
  return tail.length === 4 ? `••••${tail}` : "••••";
};

function mapTransaction(t: SfTransaction, currency: string): ProviderTransaction | null {
  const pending = t.pending === true || t.posted === 0 || t.posted == null;
  const at = pending ? (t.transacted_at ?? (t.posted || null)) : t.posted;
  if (at == null || at === 0) return null;
  return {
    providerTransactionId: t.id,
    status: pending ? "pending" : "posted",
    type: t.amount.startsWith("-") ? "debit" : decimalIsZero(t.amount) ? "other" : "credit",
    description: (t.description ?? t.payee ?? "Transaction").trim().slice(0, 500) || "Transaction",
    amount: t.amount,
    currency,
    symbol: null,
    quantity: null,
    price: null,
    date: new Date(at * 1000),
    raw: {
      payee: t.payee ?? null,
      memo: t.memo ?? null,
      transactedAt: t.transacted_at ? new Date(t.transacted_at * 1000).toISOString() : null,
    },
  };
}

function mapHoldings(a: SfAccount): ProviderHolding[] {
  return (a.holdings ?? []).map((h) => ({
    providerHoldingId: h.id,
    symbol: h.symbol ?? null,
    name: h.description ?? h.symbol ?? null,
    assetType: "other",
    quantity: h.shares ?? "0",
    price: h.market_value && h.shares && !decimalIsZero(h.shares) ? decimalDiv(h.market_value, h.shares, 6) : null,
    marketValue: h.market_value ?? null,
    currency: h.currency ?? a.currency,
  }));
}

/** Creates the adapter; all I/O goes through the injected `fetch`. */
export function createSimpleFinAdapter(options: SimpleFinAdapterOptions) {
  const now = options.now ?? (() => new Date());
  const policy = options.urlPolicy ?? defaultSimpleFinUrlPolicy;
  const http = createProviderHttp({
    hooks: options.hooks,
    provider: "simplefin",
    fetch: options.fetch,
    timeouts: options.timeouts,
    logger: options.logger,
    now,
    classify: classifySimpleFin,
  });

  const adapter = {
    provider: "simplefin" as const,
    authType: "setup_token" as const,

    /** Setup token → access URL (store it as a secret); see ./setup-token.ts for the errors. */
    claimSetupToken: (setupToken: string) => claimSetupToken(http, setupToken, policy),

    /** Every account in one snapshot; the credential is the access URL. */
    async snapshot(accessUrl: string, window: SnapshotWindow): Promise<ProviderSnapshot> {
      const access = parseAccessUrl(accessUrl, policy);
      if (!access)
        throw new ReauthRequiredError("simplefin: the stored access URL is not usable", {
          detail: "access_url_invalid",
        });
      // end-date is exclusive: one second past the window's end keeps an item at `end`.
      const endS = Math.floor(window.end.getTime() / 1000) + 1;
      let requests = 0;
      const read = (startS: number, stopS: number, accounts: string[]) => {
        requests += 1;
        const q = new URLSearchParams({
          "start-date": String(startS),
          "end-date": String(stopS),
          pending: "1",
          version: "2",
        });
        for (const id of accounts) q.append("account", id);
        return http.request({
          operation: accounts.length ? "accounts.chunk" : "accounts.list",
          method: "GET",
          url: `${access.root}/accounts?${q}`,
          headers: { Authorization: access.authorization, Accept: "application/json" },
          schema: AccountSetSchema,
        });
      };

      let chunkStart = endS - SIMPLEFIN_MAX_WINDOW_SECONDS;
      const latest = await read(chunkStart, endS, []);
      const warnings = warningsOf(latest);
      const since = new Map(latest.accounts.map((a) => [a.id, window.startFor(a.id)]));
      const rows = new Map(latest.accounts.map((a) => [a.id, new Map((a.transactions ?? []).map((t) => [t.id, t]))]));
      const startS = (id: string) => Math.floor((since.get(id) as Date).getTime() / 1000);
      // Older chunks, newest first, only for the accounts that reach further back.
      for (;;) {
        const reaching = latest.accounts.map((a) => a.id).filter((id) => startS(id) < chunkStart);
        if (reaching.length === 0) break;
        const from = Math.max(chunkStart - SIMPLEFIN_MAX_WINDOW_SECONDS, Math.min(...reaching.map(startS)));
        const older = await read(from, chunkStart, reaching);
        warnings.push(...warningsOf(older));
        for (const a of older.accounts) {
          const known = rows.get(a.id);
          if (!known) continue;
          for (const t of a.transactions ?? []) if (!known.has(t.id)) known.set(t.id, t);
        }
        chunkStart = from;
      }

      const accounts: ProviderSnapshot["accounts"] = [];
      for (const a of latest.accounts) {
        const from = since.get(a.id) as Date;
        let undated = 0;
        const transactions: ProviderTransaction[] = [];
        for (const t of rows.get(a.id)?.values() ?? []) {
          const mapped = mapTransaction(t, a.currency);
          if (!mapped) undated++;
          else if (mapped.date.getTime() >= from.getTime()) transactions.push(mapped);
        }
        if (undated) {
          warnings.push({
            code: "transactions_undated",
            message: `${undated} transaction(s) without a date were skipped.`,
            providerAccountId: a.id,
          });
        }
        transactions.sort(
          (x, y) =>
            x.date.getTime() - y.date.getTime() || x.providerTransactionId.localeCompare(y.providerTransactionId),
        );
        const account: ProviderAccount = {
          providerAccountId: a.id,
          accountNumberMasked: maskOf(a.id),
          name: a.name || a.org?.name || "SimpleFIN account",
          type: "simplefin",
          kind: inferKind(a),
          // Verbatim, even when it is a URL naming a custom currency; never converted.
          currency: a.currency,
          balances: {
            current: a.balance,
            available: a["available-balance"] ?? a.balance,
            asOf: a["balance-date"] ? new Date(a["balance-date"] * 1000) : now(),
          },
          holdings: mapHoldings(a),
        };
        accounts.push({ account, transactions, since: from });
      }
      const seen = new Set<string>();
      const unique = warnings.filter((w) => {
        const key = `${w.code}|${w.providerAccountId ?? ""}|${w.message}`;
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      });
      if (latest.accounts.length === 0 && unique.length === 0 && latest.errors == null && latest.errlist == null) {
        throw new MalformedResponseError("simplefin accounts.list: neither accounts nor errors");
      }
      return { accounts, warnings: unique, quota: null, requests };
    },
  } satisfies SnapshotSource & Record<string, unknown>;
  return adapter;
}

/** The adapter's type. */
export type SimpleFinAdapter = ReturnType<typeof createSimpleFinAdapter>;
