/**
 * The banks a bank-consent provider links (GoCardless's catalogue, docs/providers/gocardless.md
 * "Institutions"): fetched whole at most once a day, by the hourly job, and searched in D1, so a
 * person searching never makes us call the provider. Only an empty catalogue (a new deployment)
 * is fetched on first use.
 */

import { batchAll } from "../../db/batch";
import {
  catalogueAge,
  findInstitution,
  type InstitutionRow,
  replaceCatalogue,
  searchInstitutions,
} from "../../db/institutions";
import type { Deps } from "../../deps";
import { fail, invalidField } from "../../errors";
import type { OfferedProvider } from "../../providers/registry";
import { ProviderError } from "../../providers/types";
import { providerApiError } from "../connections/errors";

/** docs/providers/gocardless.md: the catalogue changes rarely; a day old is fresh enough. */
export const CATALOGUE_MAX_AGE_MS = 24 * 3_600_000;

type CatalogueDeps = Pick<Deps, "db" | "providers" | "logger" | "now">;

/** The bank-consent providers configured here. */
function bankProviders(deps: CatalogueDeps): OfferedProvider[] {
  return deps.providers.list().flatMap((info) => {
    const offered = info.authType === "bank_consent" ? deps.providers.get(info.slug) : null;
    return offered ? [offered] : [];
  });
}

/** Fetches a provider's whole catalogue and replaces the stored one in one batch; returns the count. */
async function refreshCatalogue(deps: CatalogueDeps, offered: OfferedProvider): Promise<number> {
  if (offered.link.kind !== "bank_consent") return 0;
  const now = deps.now();
  const banks = await offered.link.adapter.institutions();
  const rows: InstitutionRow[] = banks.map((b) => ({
    provider: offered.info.slug,
    id: b.id,
    name: b.name,
    bic: b.bic,
    countries: b.countries,
    transactionTotalDays: b.transactionTotalDays,
    maxAccessValidForDays: b.maxAccessValidForDays,
    logo: b.logo,
    fetchedAt: now,
  }));
  // An empty answer is a provider fault, not a reason to forget every bank.
  if (rows.length === 0) throw new Error(`${offered.info.slug}: the institutions list came back empty`);
  await batchAll(deps.db, replaceCatalogue(deps.db, offered.info.slug, rows, now));
  return rows.length;
}

/** The hourly job's step: every bank-consent catalogue older than a day is fetched again. */
export async function refreshStaleCatalogues(deps: CatalogueDeps): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const offered of bankProviders(deps)) {
    const age = await catalogueAge(deps.db, offered.info.slug);
    const oldest = age?.oldest?.getTime() ?? 0;
    if (age && age.n > 0 && deps.now().getTime() - oldest < CATALOGUE_MAX_AGE_MS) continue;
    try {
      out[offered.info.slug] = await refreshCatalogue(deps, offered);
    } catch (err) {
      // The old catalogue stays; the next hour tries again.
      deps.logger.warn("institution catalogue refresh failed", {
        provider: offered.info.slug,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }
  return out;
}

/** The catalogue, fetched now only when this deployment has none yet. */
async function ensureCatalogue(deps: CatalogueDeps, offered: OfferedProvider) {
  const age = await catalogueAge(deps.db, offered.info.slug);
  if (age && age.n > 0) return;
  try {
    await refreshCatalogue(deps, offered);
  } catch (err) {
    if (err instanceof ProviderError) throw providerApiError(err);
    throw err;
  }
}

/** A bank-consent provider's bank id, checked against its catalogue: 422 when it lists no such bank. */
export async function knownInstitution(
  deps: CatalogueDeps,
  offered: OfferedProvider,
  id: string | undefined,
): Promise<string> {
  if (id === undefined) {
    throw invalidField("institution_id", "is required for this provider (see GET /api/v1/institutions)");
  }
  await ensureCatalogue(deps, offered);
  if (!(await findInstitution(deps.db, offered.info.slug, id))) {
    throw invalidField(
      "institution_id",
      `is not a bank ${offered.info.slug} links (see GET /api/v1/institutions?provider=${offered.info.slug})`,
    );
  }
  return id;
}

/** One bank as the API shows it. */
export interface InstitutionView {
  id: string;
  name: string;
  bic: string | null;
  countries: string[];
  transaction_total_days: number | null;
  max_access_valid_for_days: number | null;
  logo: string | null;
}

const view = (r: InstitutionRow): InstitutionView => ({
  id: r.id,
  name: r.name,
  bic: r.bic,
  countries: r.countries,
  transaction_total_days: r.transactionTotalDays,
  max_access_valid_for_days: r.maxAccessValidForDays,
  logo: r.logo,
});

const encodeAfter = (r: InstitutionRow) =>
  btoa(JSON.stringify([r.name, r.id]))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");

function decodeAfter(cursor: string | undefined): { name: string; id: string } | undefined {
  if (cursor === undefined) return undefined;
  try {
    const v: unknown = JSON.parse(atob(cursor.replace(/-/g, "+").replace(/_/g, "/")));
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === "string" && typeof v[1] === "string") {
      return { name: v[0], id: v[1] };
    }
  } catch {}
  throw invalidField("query.cursor", "is not a valid cursor", "The cursor is not one this API issued.");
}

/** A page of a bank-consent provider's banks (GET /api/v1/institutions). */
export async function listInstitutions(
  deps: CatalogueDeps,
  query: {
    provider: string;
    country?: string | undefined;
    q?: string | undefined;
    limit: number;
    cursor?: string | undefined;
  },
): Promise<{ institutions: InstitutionView[]; next_cursor: string | null }> {
  const info = deps.providers.info(query.provider);
  if (info?.authType !== "bank_consent") {
    const banks = bankProviders(deps).map((p) => p.info.slug);
    throw invalidField(
      "query.provider",
      banks.length ? `must be one of: ${banks.join(", ")}` : "no bank provider is offered here",
    );
  }
  const offered = deps.providers.get(query.provider);
  if (!offered) throw fail("provider_not_configured", `${query.provider} is not configured on this deployment.`);
  await ensureCatalogue(deps, offered);
  const after = decodeAfter(query.cursor);
  const rows = await searchInstitutions(deps.db, { ...query, provider: offered.info.slug }, after, query.limit + 1);
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return { institutions: page.map(view), next_cursor: rows.length > query.limit && last ? encodeAfter(last) : null };
}
