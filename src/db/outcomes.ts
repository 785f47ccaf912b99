/** Hourly outcome counts per dependency (readiness reads them; src/services/readiness.ts). */
import { and, gte, inArray, lt, sql } from "drizzle-orm";
import type { Db } from "./client";
import { outcomeCounts } from "./schema";

const HOUR = 3_600_000;
export const hourOf = (at: Date) => Math.floor(at.getTime() / HOUR) * HOUR;

/** Counts one outcome of `subject` in its hour: an ok, or a failure of class `error`. */
export const countOutcome = (db: Db, subject: string, at: Date, error: string | null) =>
  db
    .insert(outcomeCounts)
    .values({
      subject,
      hour: hourOf(at),
      ok: error === null ? 1 : 0,
      failed: error === null ? 0 : 1,
      lastError: error,
      lastErrorAt: error === null ? null : at,
    })
    .onConflictDoUpdate({
      target: [outcomeCounts.subject, outcomeCounts.hour],
      set:
        error === null
          ? { ok: sql`${outcomeCounts.ok} + 1` }
          : { failed: sql`${outcomeCounts.failed} + 1`, lastError: error, lastErrorAt: at },
    });

/** The counts of these subjects in the hours since `since`. */
export const recentOutcomes = (db: Db, subjects: string[], since: Date) =>
  db
    .select()
    .from(outcomeCounts)
    .where(and(inArray(outcomeCounts.subject, subjects), gte(outcomeCounts.hour, hourOf(since))));

/** Hourly purge: rows older than `before`. */
export const purgeOutcomes = (db: Db, before: Date) =>
  db.delete(outcomeCounts).where(lt(outcomeCounts.hour, hourOf(before)));
