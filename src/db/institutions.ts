/** The bank catalogue of bank-consent providers (GoCardless): replaced whole, searched locally. */
import { and, asc, count, eq, gt, lt, min, or, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Db } from "./client";
import { institutions } from "./schema";

export type InstitutionRow = typeof institutions.$inferSelect;

/** D1 binds at most 100 parameters per statement: 11 rows of 9 columns. */
const ROWS_PER_INSERT = 11;

/** Statements that replace a provider's catalogue with `rows` (run them in one batch). */
export function replaceCatalogue(
  db: Db,
  provider: string,
  rows: InstitutionRow[],
  fetchedAt: Date,
): BatchItem<"sqlite">[] {
  const statements: BatchItem<"sqlite">[] = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
    const chunk = rows.slice(i, i + ROWS_PER_INSERT);
    statements.push(
      db
        .insert(institutions)
        .values(chunk)
        .onConflictDoUpdate({
          target: [institutions.provider, institutions.id],
          set: {
            name: sql`excluded.name`,
            bic: sql`excluded.bic`,
            countries: sql`excluded.countries`,
            transactionTotalDays: sql`excluded.transaction_total_days`,
            maxAccessValidForDays: sql`excluded.max_access_valid_for_days`,
            logo: sql`excluded.logo`,
            fetchedAt: sql`excluded.fetched_at`,
          },
        }),
    );
  }
  // Banks the provider no longer lists go.
  statements.push(
    db.delete(institutions).where(and(eq(institutions.provider, provider), lt(institutions.fetchedAt, fetchedAt))),
  );
  return statements;
}

/** How many banks a provider's catalogue holds and when its oldest row was fetched. */
export const catalogueAge = (db: Db, provider: string) =>
  db
    .select({ n: count(), oldest: min(institutions.fetchedAt) })
    .from(institutions)
    .where(eq(institutions.provider, provider))
    .get();

export const findInstitution = (db: Db, provider: string, id: string) =>
  db
    .select()
    .from(institutions)
    .where(and(eq(institutions.provider, provider), eq(institutions.id, id)))
    .get();

/** `%`, `_` and the escape itself are literal in a search (LIKE … ESCAPE '\'). */
const likeLiteral = (q: string) => q.replace(/[\\%_]/g, (c) => `\\${c}`);

/** A page of banks by name, then id, after `after`; filtered by country and a name (or BIC) fragment. */
export function searchInstitutions(
  db: Db,
  filter: { provider: string; country?: string | undefined; q?: string | undefined },
  after: { name: string; id: string } | undefined,
  limit: number,
) {
  const pattern = filter.q ? `%${likeLiteral(filter.q)}%` : undefined;
  return db
    .select()
    .from(institutions)
    .where(
      and(
        eq(institutions.provider, filter.provider),
        filter.country
          ? sql`exists (select 1 from json_each(${institutions.countries}) where value = ${filter.country})`
          : undefined,
        pattern
          ? or(
              sql`${institutions.name} like ${pattern} escape '\\'`,
              sql`${institutions.bic} like ${pattern} escape '\\'`,
            )
          : undefined,
        after
          ? or(gt(institutions.name, after.name), and(eq(institutions.name, after.name), gt(institutions.id, after.id)))
          : undefined,
      ),
    )
    .orderBy(asc(institutions.name), asc(institutions.id))
    .limit(limit);
}
