/**
 * GoCardless Bank Account Data adapter (docs/providers/gocardless.md): institutions, the consent
 * (an end-user agreement and a requisition), and snapshots of a requisition's accounts. The
 * credential of a connection is its requisition id; the app token comes from the injected
 * `tokens` source and is renewed once when GoCardless refuses it.
 */
import type { z } from "zod";
import { decimalIsZero } from "../../home/money";
import type { Logger } from "../../logger";
import type { HttpTimeouts, ProviderHooks, ProviderResponse } from "../http";
import {
  type AccountKind,
  MalformedResponseError,
  type ProviderAccount,
  ProviderRejectedError,
  type ProviderSnapshot,
  type ProviderTransaction,
  type ProviderWarning,
  ReauthRequiredError,
  type SnapshotSource,
  type SnapshotWindow,
} from "../types";
import { type AppTokenSource, createGoCardlessHttp } from "./app-token";
import { AppTokenRefusedError, rateHeader } from "./errors";
import { accountIdentity, type KeyedRow, remittanceOf, transactionIds } from "./ids";
import {
  AccountMetaSchema,
  AgreementSchema,
  BalancesSchema,
  DetailsSchema,
  type GcTransaction,
  InstitutionSchema,
  InstitutionsSchema,
  RequisitionSchema,
  TransactionsSchema,
} from "./wire";

/** Options for `createGoCardlessAdapter`. */
export interface GoCardlessAdapterOptions {
  /** Default https://bankaccountdata.gocardless.com/api/v2; the simulator's `<base>/sandbox/gocardless/api/v2`. */
  baseUrl?: string;
  fetch: typeof fetch;
  timeouts: HttpTimeouts;
  tokens: AppTokenSource;
  now?: () => Date;
  logger?: Logger;
  /** Outbound limits and call metrics (src/providers/http.ts). */
  hooks?: ProviderHooks;
}

/** One bank as GoCardless lists it; day counts as numbers (GoCardless sends strings). */
export interface GoCardlessInstitution {
  id: string;
  name: string;
  bic: string | null;
  transactionTotalDays: number | null;
  maxAccessValidForDays: number | null;
  countries: string[];
  logo: string | null;
}

/** The scopes an agreement may grant. */
export type AccessScope = "balances" | "details" | "transactions";

/** An end-user agreement. */
export interface GoCardlessAgreement {
  id: string;
  maxHistoricalDays: number;
  accessValidForDays: number;
  accessScope: string[];
  /** When the user consented, or null while they have not. */
  acceptedAt: Date | null;
}

/** A requisition: CR created, LN linked, EX expired, RJ rejected, and the steps between. */
export interface GoCardlessRequisition {
  id: string;
  status: string;
  accounts: string[];
  agreementId: string | null;
  reference: string | null;
}

/** Input of `startConsent`. */
export interface StartConsentInput {
  institutionId: string;
  /** Where the bank sends the user back (`?ref=<reference>`). */
  redirect: string;
  /** Unique per requisition (GoCardless refuses a reused one). */
  reference: string;
  /** Default: all the history the institution offers (≤ 730). */
  maxHistoricalDays?: number;
  /** Default: the longest access the institution offers (≤ 180). */
  accessValidForDays?: number;
  accessScope?: AccessScope[];
  userLanguage?: string;
  /** Sandbox only: sent as `ledgerlink_scenario`, which only the simulator reads. */
  scenario?: string;
  /** Sandbox only: the simulated login (seed), sent as `ledgerlink_login`. */
  login?: string;
}

const DAY = 86_400_000;
const ALL_SCOPES: AccessScope[] = ["balances", "details", "transactions"];
/** docs/providers/gocardless.md "Accounts": the first present of these is `current`. */
const CURRENT_ORDER = [
  "closingBooked",
  "expected",
  "forwardAvailable",
  "interimAvailable",
  "interimBooked",
  "nonInvoiced",
  "openingBooked",
];
/** Actual Budget's fallback when a bank refuses the day counts it advertised. */
const FALLBACK_HISTORY_DAYS = 90;
const FALLBACK_ACCESS_DAYS = 89;
const JSON_HEADERS = { "Content-Type": "application/json", Accept: "application/json" };

const KINDS: Record<string, AccountKind> = { CACC: "checking", SVGS: "savings", CARD: "credit_card", LOAN: "loan" };

/** Account kind from ISO 20022 cashAccountType. */
export function kindOf(cashAccountType: string | undefined): AccountKind {
  return KINDS[(cashAccountType ?? "").toUpperCase()] ?? "other";
}

/** `YYYY-MM-DD` of a date or date-time as the bank wrote it (its calendar day), or null. */
export function calendarDate(text: string | undefined): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(text ?? "");
  if (!m) return null;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === m[0] ? m[0] : null;
}

/** The row's day: bookingDate → bookingDateTime → valueDate → valueDateTime; null skips the row. */
export function rowDate(t: GcTransaction): string | null {
  return (
    calendarDate(t.bookingDate) ??
    calendarDate(t.bookingDateTime) ??
    calendarDate(t.valueDate) ??
    calendarDate(t.valueDateTime)
  );
}

const mask = (tail: string | undefined) => {
  const chars = (tail ?? "").replace(/[^A-Za-z0-9]/g, "");
  return chars.length >= 4 ? `••••${chars.slice(-4)}` : "••••";
};

/** Creates the adapter; all I/O goes through the injected `fetch`. */
export function createGoCardlessAdapter(options: GoCardlessAdapterOptions) {
  const gc = createGoCardlessHttp(options);
  const { http, baseUrl, now } = gc;
  const tokens = options.tokens;

  /** One call with the app token; a refused token is reported and the call tried once more. */
  async function authed<T>(call: (token: string) => Promise<T>): Promise<T> {
    const token = await tokens.get();
    try {
      return await call(token);
    } catch (err) {
      if (!(err instanceof AppTokenRefusedError)) throw err;
      await tokens.rejected(token);
      return call(await tokens.get());
    }
  }

  const get = <T>(operation: string, path: string, schema: z.ZodType<T>) =>
    authed((token) =>
      http.exchange<T>({
        operation,
        method: "GET",
        url: `${baseUrl}${path}`,
        headers: { Authorization: `Bearer ${token}`, Accept: "application/json" },
        schema,
      }),
    );

  const post = <T>(operation: string, path: string, body: Record<string, unknown>, schema: z.ZodType<T>) =>
    authed((token) =>
      http.request<T>({
        operation,
        method: "POST",
        url: `${baseUrl}${path}`,
        headers: { ...JSON_HEADERS, Authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
        schema,
      }),
    );

  const enc = encodeURIComponent;

  function institutionOf(i: z.infer<typeof InstitutionSchema>): GoCardlessInstitution {
    return {
      id: i.id,
      name: i.name,
      bic: i.bic ?? null,
      transactionTotalDays: i.transaction_total_days ?? null,
      maxAccessValidForDays: i.max_access_valid_for_days ?? null,
      countries: i.countries,
      logo: i.logo ?? null,
    };
  }

  function agreementOf(a: z.infer<typeof AgreementSchema>): GoCardlessAgreement {
    const accepted = a.accepted ? new Date(a.accepted) : null;
    return {
      id: a.id,
      maxHistoricalDays: a.max_historical_days,
      accessValidForDays: a.access_valid_for_days,
      accessScope: a.access_scope,
      acceptedAt: accepted && Number.isFinite(accepted.getTime()) ? accepted : null,
    };
  }

  const adapter = {
    provider: "gocardless" as const,
    authType: "bank_consent" as const,

    /** Banks, optionally of one country (ISO 3166 alpha-2). */
    async institutions(country?: string): Promise<GoCardlessInstitution[]> {
      const q = country ? `?country=${enc(country.toLowerCase())}` : "";
      const { data } = await get("institutions.list", `/institutions/${q}`, InstitutionsSchema);
      return data.map(institutionOf);
    },

    /** One bank. */
    async institution(id: string): Promise<GoCardlessInstitution> {
      const { data } = await get("institutions.get", `/institutions/${enc(id)}/`, InstitutionSchema);
      return institutionOf(data);
    },

    /**
     * POST /agreements/enduser/, day counts clamped to the institution's (and GoCardless's 730 /
     * 180) limits. A refusal for the day counts is retried once with 90 / 89 days (Actual's
     * fallback for banks that advertise wrong limits).
     */
    async createAgreement(input: {
      institutionId: string;
      maxHistoricalDays?: number;
      accessValidForDays?: number;
      accessScope?: AccessScope[];
      institution?: GoCardlessInstitution;
    }): Promise<GoCardlessAgreement> {
      const inst = input.institution ?? (await adapter.institution(input.institutionId));
      const clamp = (v: number | undefined, limit: number | null, max: number) =>
        Math.max(1, Math.min(Math.floor(v ?? max), limit ?? max, max));
      const history = clamp(input.maxHistoricalDays, inst.transactionTotalDays, 730);
      const access = clamp(input.accessValidForDays, inst.maxAccessValidForDays, 180);
      const create = (h: number, a: number) =>
        post(
          "agreements.create",
          "/agreements/enduser/",
          {
            institution_id: input.institutionId,
            max_historical_days: h,
            access_valid_for_days: a,
            access_scope: input.accessScope ?? ALL_SCOPES,
          },
          AgreementSchema,
        );
      try {
        return agreementOf(await create(history, access));
      } catch (err) {
        const h = Math.min(history, FALLBACK_HISTORY_DAYS);
        const a = Math.min(access, FALLBACK_ACCESS_DAYS);
        const dayCounts = /max_historical_days|access_valid_for_days/i.test(
          err instanceof ProviderRejectedError ? (err.detail ?? "") : "",
        );
        if (
          !(err instanceof ProviderRejectedError) ||
          err.status !== 400 ||
          !dayCounts ||
          (h === history && a === access)
        ) {
          throw err;
        }
        return agreementOf(await create(h, a));
      }
    },

    /** POST /requisitions/ → the consent link. */
    async createRequisition(input: {
      institutionId: string;
      agreementId: string;
      redirect: string;
      reference: string;
      userLanguage?: string;
      scenario?: string;
      login?: string;
    }): Promise<{ id: string; link: string; status: string }> {
      const body: Record<string, unknown> = {
        redirect: input.redirect,
        institution_id: input.institutionId,
        agreement: input.agreementId,
        reference: input.reference,
      };
      if (input.userLanguage) body.user_language = input.userLanguage;
      // Sandbox only: real GoCardless never gets these (only sandbox connections pass a scenario).
      if (input.scenario !== undefined) body.ledgerlink_scenario = input.scenario;
      if (input.login !== undefined) body.ledgerlink_login = input.login;
      const r = await post("requisitions.create", "/requisitions/", body, RequisitionSchema);
      if (!r.link) throw new MalformedResponseError("gocardless requisitions.create: no link");
      return { id: r.id, link: r.link, status: r.status };
    },

    /** GET /requisitions/{id}/ */
    async requisition(id: string): Promise<GoCardlessRequisition> {
      const { data } = await get("requisitions.get", `/requisitions/${enc(id)}/`, RequisitionSchema);
      return {
        id: data.id,
        status: data.status,
        accounts: data.accounts,
        agreementId: data.agreement ?? null,
        reference: data.reference ?? null,
      };
    },

    /** GET /agreements/enduser/{id}/ */
    async agreement(id: string): Promise<GoCardlessAgreement> {
      const { data } = await get("agreements.get", `/agreements/enduser/${enc(id)}/`, AgreementSchema);
      return agreementOf(data);
    },

    /** DELETE /requisitions/{id}/: revokes the consent (the answer's body is not read). */
    async deleteRequisition(id: string): Promise<void> {
      await authed((token) =>
        http.text({
          operation: "requisitions.delete",
          method: "DELETE",
          url: `${baseUrl}/requisitions/${enc(id)}/`,
          headers: { Authorization: `Bearer ${token}`, Accept: "application/json" },
        }),
      );
    },

    /** Agreement + requisition: everything the user needs to consent at their bank. */
    async startConsent(input: StartConsentInput) {
      const institution = await adapter.institution(input.institutionId);
      const agreement = await adapter.createAgreement({ ...input, institution });
      const requisition = await adapter.createRequisition({ ...input, agreementId: agreement.id });
      return {
        requisitionId: requisition.id,
        agreementId: agreement.id,
        link: requisition.link,
        accessValidForDays: agreement.accessValidForDays,
        maxHistoricalDays: agreement.maxHistoricalDays,
      };
    },

    /**
     * After the user came back: the requisition's status, its account ids and when the consent
     * ends (acceptedAt + access_valid_for_days). Not linked (status other than LN: CR, RJ, EX…)
     * gives no accounts and a null expiry; the status says which.
     */
    async completeConsent(requisitionId: string) {
      const r = await adapter.requisition(requisitionId);
      if (r.status !== "LN") return { status: r.status, accountIds: [] as string[], consentExpiresAt: null };
      let consentExpiresAt: Date | null = null;
      if (r.agreementId) {
        const a = await adapter.agreement(r.agreementId);
        if (a.acceptedAt) consentExpiresAt = new Date(a.acceptedAt.getTime() + a.accessValidForDays * DAY);
      }
      return { status: r.status, accountIds: r.accounts, consentExpiresAt };
    },

    /** Every account of a linked requisition; the credential is the requisition id. */
    async snapshot(requisitionId: string, window: SnapshotWindow): Promise<ProviderSnapshot> {
      const r = await adapter.requisition(requisitionId);
      if (r.status === "EX") {
        throw new ReauthRequiredError("gocardless requisitions.get: consent expired", {
          detail: "consent_expired: requisition status EX",
        });
      }
      if (r.status !== "LN") {
        throw new ReauthRequiredError(`gocardless requisitions.get: not linked (${r.status})`, {
          detail: `consent_not_linked: requisition status ${r.status.slice(0, 8)}`,
        });
      }
      const quota = new QuotaTracker();
      const warnings: ProviderWarning[] = [];
      const accounts: ProviderSnapshot["accounts"] = [];
      for (const gcId of r.accounts) {
        const read = await readAccount(gcId, window, quota, warnings);
        if (read) accounts.push(read);
      }
      return { accounts, warnings, quota: quota.result() };
    },
  } satisfies SnapshotSource & Record<string, unknown>;

  async function readAccount(
    gcId: string,
    window: SnapshotWindow,
    quota: QuotaTracker,
    warnings: ProviderWarning[],
  ): Promise<ProviderSnapshot["accounts"][number] | null> {
    const path = `/accounts/${enc(gcId)}`;
    const meta = (await get("accounts.metadata", `${path}/`, AccountMetaSchema)).data;
    const status = (meta.status ?? "READY").toUpperCase();
    if (status === "EXPIRED") {
      throw new ReauthRequiredError("gocardless accounts.metadata: consent expired", {
        detail: "consent_expired: account status EXPIRED",
      });
    }
    if (status === "SUSPENDED") {
      // Only a new requisition lifts a suspension.
      throw new ReauthRequiredError("gocardless accounts.metadata: account suspended", {
        detail: "account_suspended: account status SUSPENDED",
      });
    }
    const metaIdentity = await accountIdentity(gcId, meta.iban);
    if (status === "ERROR" || status === "DISCOVERED" || status === "PROCESSING") {
      warnings.push({
        code: status === "ERROR" ? "account_error" : "account_processing",
        message:
          status === "ERROR"
            ? "The bank reports an error for this account; it was skipped."
            : "The bank is still preparing this account; it was skipped.",
        providerAccountId: metaIdentity,
      });
      return null;
    }
    const details: Partial<NonNullable<z.infer<typeof DetailsSchema>["account"]>> =
      quota.track(await get("accounts.details", `${path}/details/`, DetailsSchema)).account ?? {};
    const balances = quota.track(await get("accounts.balances", `${path}/balances/`, BalancesSchema)).balances;
    const providerAccountId = meta.iban
      ? metaIdentity
      : await accountIdentity(gcId, details.iban, {
          institutionId: meta.institution_id,
          bban: details.bban,
          maskedPan: details.maskedPan,
          currency: details.currency ?? balances[0]?.balanceAmount.currency,
        });
    const since = window.startFor(providerAccountId);
    const from = new Date(Math.floor(since.getTime() / DAY) * DAY).toISOString().slice(0, 10);
    const to = window.end.toISOString().slice(0, 10);
    const txBody = quota.track(
      await get("accounts.transactions", `${path}/transactions/?date_from=${from}&date_to=${to}`, TransactionsSchema),
    );

    const byType = new Map(balances.map((b) => [b.balanceType, b]));
    const currentBalance = CURRENT_ORDER.map((t) => byType.get(t)).find((b) => b !== undefined);
    const availableBalance =
      byType.get("interimAvailable") ?? balances.find((b) => /available/i.test(b.balanceType)) ?? undefined;
    const currency =
      details.currency ??
      currentBalance?.balanceAmount.currency ??
      txBody.transactions.booked[0]?.transactionAmount.currency ??
      "XXX";
    const iban = meta.iban || details.iban;
    const account: ProviderAccount = {
      providerAccountId,
      accountNumberMasked: mask(iban ?? details.maskedPan ?? details.bban),
      name: details.name ?? details.displayName ?? details.product ?? "Bank account",
      type: (details.cashAccountType ?? "unknown").toLowerCase(),
      kind: kindOf(details.cashAccountType),
      currency,
      balances: {
        current: currentBalance?.balanceAmount.amount ?? null,
        available: availableBalance?.balanceAmount.amount ?? null,
        asOf: now(),
      },
      holdings: [],
    };

    const rows: KeyedRow[] = [];
    let undated = 0;
    const endDay = to;
    for (const [list, pending] of [
      [txBody.transactions.booked, false],
      [txBody.transactions.pending ?? [], true],
    ] as const) {
      for (const row of list) {
        const date = rowDate(row);
        if (date === null) {
          undated++;
          continue;
        }
        // Some banks ignore the window: filter locally (whole UTC days).
        if (date < from || date > endDay) continue;
        rows.push({ row, date, currency: row.transactionAmount.currency ?? currency, pending });
      }
    }
    if (undated > 0) {
      warnings.push({
        code: "transactions_undated",
        message: `${undated} transaction(s) without any date were skipped until the bank dates them.`,
        providerAccountId,
      });
    }
    const ids = await transactionIds(rows);
    const transactions = rows.map((r, i) => mapRow(r, ids[i] as string));
    transactions.sort(
      (a, b) => a.date.getTime() - b.date.getTime() || a.providerTransactionId.localeCompare(b.providerTransactionId),
    );
    return { account, transactions, since };
  }

  return adapter;
}

function mapRow({ row, date, currency, pending }: KeyedRow, id: string): ProviderTransaction {
  const amount = row.transactionAmount.amount;
  const counterparty = row.creditorName ?? row.debtorName ?? null;
  return {
    providerTransactionId: id,
    status: pending ? "pending" : "posted",
    type: amount.startsWith("-") ? "debit" : decimalIsZero(amount) ? "other" : "credit",
    description: (remittanceOf(row) ?? counterparty ?? row.additionalInformation ?? "Transaction").trim().slice(0, 500),
    amount,
    currency,
    symbol: null,
    quantity: null,
    price: null,
    date: new Date(`${date}T00:00:00.000Z`),
    raw: {
      counterparty,
      bankTransactionCode: row.bankTransactionCode ?? null,
      proprietaryBankTransactionCode: row.proprietaryBankTransactionCode ?? null,
      entryReference: row.entryReference ?? null,
      valueDate: calendarDate(row.valueDate) ?? calendarDate(row.valueDateTime),
      idSource: id.startsWith("tx:") ? "transactionId" : id.startsWith("int:") ? "internalTransactionId" : "derived",
    },
  };
}

/** The tightest account-success quota seen in one snapshot. */
class QuotaTracker {
  private remaining: number | null = null;
  private reset: number | null = null;
  track<T>(answer: ProviderResponse<T>): T {
    const remaining = rateHeader(answer.headers, "account_success_remaining");
    const reset = rateHeader(answer.headers, "account_success_reset");
    if (remaining !== null && (this.remaining === null || remaining < this.remaining)) {
      this.remaining = remaining;
      this.reset = reset;
    } else if (remaining !== null && remaining === this.remaining && reset !== null) {
      this.reset = Math.max(this.reset ?? 0, reset);
    }
    return answer.data;
  }
  result() {
    return this.remaining === null && this.reset === null
      ? null
      : { remaining: this.remaining, resetSeconds: this.reset };
  }
}

/** The adapter's type. */
export type GoCardlessAdapter = ReturnType<typeof createGoCardlessAdapter>;
