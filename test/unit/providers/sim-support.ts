import { Hono } from "hono";
import { decimalAdd, decimalSub } from "../../../src/home/money";
import type { ProviderSnapshot, SnapshotWindow } from "../../../src/providers/types";
import { Clock, ORIGIN } from "./support";

/** A call a simulator received and how it answered. */
export interface SimCall {
  method: string;
  url: URL;
  status: number;
  headers: Headers;
  body: string;
}

/**
 * A simulator mounted under `ORIGIN<mount>` as the Worker will mount it, and a `fetch` that
 * sends real Request objects through it; `rewrite` may change a request first (e.g. drop a
 * query parameter) and `calls` records every answer.
 */
export function mountSim(mount: string, build: (clock: Clock) => Hono, rewrite?: (req: Request) => Request) {
  const clock = new Clock();
  const app = new Hono().route(mount, build(clock));
  const calls: SimCall[] = [];
  const fetch: typeof globalThis.fetch = async (input, init) => {
    let req = new Request(input, init);
    if (!req.url.startsWith(`${ORIGIN}${mount}/`)) throw new TypeError(`unexpected URL ${req.url}`);
    if (rewrite) req = rewrite(req);
    const res = await app.fetch(req);
    const body = await res.clone().text();
    calls.push({ method: req.method, url: new URL(req.url), status: res.status, headers: res.headers, body });
    return res;
  };
  return { app, fetch, clock, calls, base: `${ORIGIN}${mount}` };
}

/** A window with one start for all accounts. */
export const windowFrom = (start: number, end: number): SnapshotWindow => ({
  end: new Date(end),
  startFor: () => new Date(start),
});

/** Sum of amounts (exact decimals). */
export const sum = (amounts: string[]) => amounts.reduce((s, a) => decimalAdd(s, a), "0");

/**
 * The reconciliation the sync will do: for each account, the balance change between two
 * snapshots against the posted transactions the second one added.
 */
export function reconcile(first: ProviderSnapshot, second: ProviderSnapshot, field: "current" | "cash" = "current") {
  return second.accounts.map(({ account, transactions }) => {
    const before = first.accounts.find((a) => a.account.providerAccountId === account.providerAccountId);
    const known = new Set(before?.transactions.map((t) => t.providerTransactionId));
    const added = transactions.filter((t) => t.status === "posted" && !known.has(t.providerTransactionId));
    const change = decimalSub(account.balances[field] ?? "0", before?.account.balances[field] ?? "0");
    return { id: account.providerAccountId, change, posted: sum(added.map((t) => t.amount)), added: added.length };
  });
}
