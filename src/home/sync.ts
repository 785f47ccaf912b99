/**
 * A sync attempt as the user's home sees it: three calls at most (docs/design.md "Sync").
 *
 * - `begin`: the run is marked running and its listeners told; the answer is what the planner's
 *   windows need (the accounts the ledger knows, the last success).
 * - `complete`: the whole snapshot is planned and applied, the run finished and its listeners
 *   told, in one `transactionSync`.
 * - `fail`: the run waits for its next attempt, or ends (failed, skipped), and its listeners
 *   are told.
 *
 * A deleted connection or an erased account refuses all three (the tombstones), so a sync that
 * was talking to the provider when the data was deleted writes nothing.
 */

import type { z } from "zod";
import { newId } from "../crypto/random";
import type { SyncStats as SyncStatsSchema } from "../wire/sync";
import { type LiveEvent, liveEvent } from "./events";
import { type AnsweredAccount, planSync } from "./ledger/plan";
import { FINISHED, type SyncRunRow } from "./ledger/rows";
import type { RunPatch, Runs } from "./ledger/run-store";
import type { Ledger } from "./ledger/store";
import type { ProviderQuotas, QuotaPolicy } from "./quota";
import type { Sockets } from "./sockets";
import type { Tombstones } from "./tombstones";

export interface SyncParts {
  ledger: Ledger;
  runs: Runs;
  sockets: Sockets;
  tombstones: Tombstones;
  quotas: ProviderQuotas;
  /** Deletes a connection's data, keeps its tombstone and forgets its quota (the home's own deletion). */
  retire: (connectionId: string, now: number) => void;
  transaction: <T>(work: () => T) => T;
}

/** The code a run skipped for its connection's spent quota ends with. */
export const QUOTA_EXHAUSTED = {
  code: "provider_quota_exhausted",
  message: "This connection used its share of the provider's daily calls; it syncs again when one frees up.",
};

/** What `begin` answers. */
export type BeginAnswer =
  | { kind: "finished"; run: SyncRunRow | null }
  | { kind: "gone" }
  /** The connection's quota is spent: the run ended `skipped`; a unit frees up at `retryAt`. */
  | { kind: "quota"; retryAt: number }
  | { kind: "started"; run: SyncRunRow; knownAccounts: string[] };

/** Starts an attempt; with `quota`, only while the connection has a unit of its provider's calls left. */
export function begin(p: SyncParts, runId: string, attempt: number, now: number, quota?: QuotaPolicy): BeginAnswer {
  const run = p.runs.find(runId);
  // A redelivered message of a finished run (or one deleted with its connection) is a duplicate.
  if (!run || FINISHED.includes(run.status)) return { kind: "finished", run };
  if (p.tombstones.refuses(run.connectionId)) return { kind: "gone" };
  if (quota) {
    const room = p.quotas.room(run.connectionId, quota, now);
    if (room.retryAt !== null) {
      p.runs.finish(run.id, {
        status: "skipped",
        finished_at: now,
        error_code: QUOTA_EXHAUSTED.code,
        error_message: QUOTA_EXHAUSTED.message,
      });
      return { kind: "quota", retryAt: room.retryAt };
    }
  }
  p.runs.update(run.id, {
    status: "running",
    attempts: attempt,
    started_at: run.startedAt?.getTime() ?? now,
    next_attempt_at: null,
  });
  const started = p.runs.find(runId) as SyncRunRow;
  p.sockets.publish(
    liveEvent(
      "sync.started",
      { connection_id: run.connectionId, sync_id: run.id, trigger: run.trigger, attempt },
      new Date(now),
    ),
  );
  return {
    kind: "started",
    run: started,
    knownAccounts: p.ledger.knownAccounts(run.connectionId),
  };
}

/** A complete snapshot of one connection, fetched when the attempt began. */
export interface SnapshotInput {
  runId: string;
  connectionId: string;
  provider: string;
  answer: AnsweredAccount[];
  fetchedAt: number;
  attempt: number;
  /** The provider calls it spent, counted against the connection's quota (providers with one). */
  spent?: { units: number; policy: QuotaPolicy };
}

/** The run's stats as the wire shows them. */
export type SyncStats = z.infer<typeof SyncStatsSchema>;

export type CompleteAnswer =
  | { kind: "gone" }
  /** A newer snapshot was applied meanwhile (this run outlived its lease): it decides the data. */
  | { kind: "stale" }
  | { kind: "applied"; stats: SyncStats; emptied: string[]; reconciliation: ReconciliationChange[] };

/** An account whose reconciliation changed (the directory audits it and lists drifts for admins). */
export interface ReconciliationChange {
  accountId: string;
  currency: string;
  status: "ok" | "drift";
  difference: string;
  since: number | null;
}

/**
 * Plans and applies the snapshot, re-links accounts another of this user's connections to the
 * same provider brought (the connections left empty are deleted here and named in the answer, for
 * the directory), finishes the run and tells its listeners: one transaction.
 */
export function complete(p: SyncParts, input: SnapshotInput, now: number): CompleteAnswer {
  if (p.tombstones.refuses(input.connectionId)) return { kind: "gone" };
  const applied = p.ledger.connectionState(input.connectionId)?.appliedFetchedAt ?? null;
  if (applied !== null && applied > input.fetchedAt) {
    p.runs.finish(input.runId, {
      status: "failed",
      finished_at: now,
      error_code: "lease_lost",
      error_message: "The sync ran past its lease and a newer sync's data was kept.",
    });
    return { kind: "stale" };
  }
  return p.transaction(() => {
    if (input.spent) p.quotas.spend(input.connectionId, input.spent.units, input.spent.policy, input.fetchedAt);
    p.ledger.recordConnection(input.connectionId, input.provider);
    const ids = input.answer.map((a) => a.account.providerAccountId);
    const relinked = p.ledger.adopt(input.connectionId, input.provider, ids);
    const plan = planSync(p.ledger.storedState(input.connectionId, input.answer), input.answer, newId);
    const rowsWritten = p.ledger.apply(input.connectionId, plan, now, input.fetchedAt);
    for (const old of relinked.emptied) p.retire(old, now);
    const run = p.runs.find(input.runId);
    const stats: SyncStats = {
      ...plan.counts,
      accounts_relinked: relinked.moved,
      rows_written: rowsWritten,
      duration_ms: Math.max(0, now - (run?.startedAt?.getTime() ?? input.fetchedAt)),
    };
    p.runs.finish(input.runId, {
      status: "succeeded",
      finished_at: now,
      stats: JSON.stringify(stats),
      error_code: null,
      error_message: null,
    });
    const at = new Date(now);
    const event = { connection_id: input.connectionId, sync_id: input.runId, attempt: input.attempt };
    p.sockets.publish(liveEvent("sync.succeeded", { ...event, trigger: run?.trigger, stats }, at));
    for (const old of relinked.emptied) {
      p.sockets.publish(
        liveEvent("connection.relinked", { connection_id: input.connectionId, replaced_connection_id: old }, at),
      );
    }
    const currencies = new Map(plan.accounts.map((a) => [a.id, a.currency]));
    const reconciliation = plan.notices.map((n) => ({
      accountId: n.accountId,
      currency: currencies.get(n.accountId) ?? "",
      status: n.status,
      difference: n.difference,
      since: n.since?.getTime() ?? null,
    }));
    for (const r of reconciliation) {
      p.sockets.publish(
        liveEvent(
          "account.reconciliation",
          {
            connection_id: input.connectionId,
            account_id: r.accountId,
            status: r.status,
            difference: r.difference,
            since: r.since === null ? null : new Date(r.since).toISOString(),
          },
          at,
        ),
      );
    }
    return { kind: "applied" as const, stats, emptied: relinked.emptied, reconciliation };
  });
}

/** How an attempt that did not complete leaves its run. */
export type FailOutcome =
  /** Another attempt follows (Queues' delayed retry, or the dead-letter queue's record). */
  | { status: "retrying"; nextAttemptAt: number | null; error: { code: string; message: string } }
  /** The run ends here (`dead_lettered`: it used up its attempts, the dead-letter queue says). */
  | { status: "failed" | "skipped" | "dead_lettered"; error: { code: string; message: string } };

/** Records an attempt that did not complete, and tells the listeners what the Worker decided. */
export function fail(p: SyncParts, runId: string, outcome: FailOutcome, events: LiveEvent[], now: number): boolean {
  const errorFields = { error_code: outcome.error.code, error_message: outcome.error.message };
  let changed: boolean;
  if (outcome.status === "retrying") {
    const patch: RunPatch = { status: "retrying", ...errorFields };
    if (outcome.nextAttemptAt !== null) patch.next_attempt_at = outcome.nextAttemptAt;
    p.runs.update(runId, patch);
    changed = true;
  } else {
    changed = p.runs.finish(runId, { status: outcome.status, finished_at: now, ...errorFields });
  }
  for (const event of events) p.sockets.publish(event);
  return changed;
}
