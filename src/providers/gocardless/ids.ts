/**
 * Stable ids for GoCardless accounts and transactions (docs/providers/gocardless.md "Ids").
 *
 * Accounts: `iban:` + hex SHA-256 of the normalized IBAN (upper case, no spaces) when the bank
 * gives one, so a relink (a new requisition, new account ids) finds the same account; else `gc:` +
 * the GoCardless account id. The plain IBAN never leaves the adapter.
 *
 * Transactions: booked rows key on `transactionId` unless it is missing, blank, a known
 * placeholder or repeated within the answer; then on `internalTransactionId`; else on a derived
 * hash. Pending rows always get a derived id, prefixed `pending:` (banks re-send pending rows on
 * every call, without ids or with ids that change when they book).
 */
import type { GcTransaction } from "./wire";

/** Values banks put in `transactionId` when they have none (ING RO: NOTPROVIDED). */
const PLACEHOLDERS = new Set([
  "NOTPROVIDED",
  "NOT PROVIDED",
  "NONREF",
  "NONE",
  "NULL",
  "UNDEFINED",
  "N/A",
  "NA",
  "0",
  "-",
]);

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Upper case, no whitespace. */
export const normalizeIban = (iban: string) => iban.replace(/\s+/g, "").toUpperCase();

/** What else names an account at its bank when it has no IBAN (cards: the masked PAN). */
export interface AccountNames {
  institutionId?: string | null | undefined;
  bban?: string | null | undefined;
  maskedPan?: string | null | undefined;
  currency?: string | null | undefined;
}

/**
 * The stable account id: `iban:<sha256>`; without an IBAN, `acct:<sha256>` of the bank, the BBAN
 * or masked PAN and the currency (a card through a new requisition is the same card); else
 * `gc:<account id>`, which a new requisition changes.
 */
export async function accountIdentity(
  gcAccountId: string,
  iban: string | null | undefined,
  other: AccountNames = {},
): Promise<string> {
  const normalized = iban ? normalizeIban(iban) : "";
  if (normalized) return `iban:${await sha256Hex(normalized)}`;
  const number = other.bban
    ? `bban:${other.bban.replace(/\s+/g, "")}`
    : other.maskedPan
      ? `pan:${other.maskedPan}`
      : "";
  if (number) return `acct:${await sha256Hex(`${other.institutionId ?? ""}|${number}|${other.currency ?? ""}`)}`;
  return `gc:${gcAccountId}`;
}

/** Whether a bank id can be trusted as a key. */
export function usableBankId(id: string | undefined): id is string {
  if (id === undefined) return false;
  const v = id.trim();
  return v !== "" && !PLACEHOLDERS.has(v.toUpperCase());
}

/** The remittance text of a row: unstructured, else the array joined, else structured. */
export function remittanceOf(t: GcTransaction): string | undefined {
  return (
    t.remittanceInformationUnstructured ??
    (t.remittanceInformationUnstructuredArray?.length
      ? t.remittanceInformationUnstructuredArray.join(" ")
      : undefined) ??
    t.remittanceInformationStructured
  );
}

/**
 * The fields a derived id hashes, in order: the row's date (YYYY-MM-DD, as resolved), amount
 * (normalized decimal), currency, counterparty (creditor, else debtor), remittance text, and
 * entryReference, else bankTransactionCode, else proprietaryBankTransactionCode.
 */
export function derivedFields(t: GcTransaction, date: string, currency: string): string[] {
  return [
    date,
    t.transactionAmount.amount,
    currency,
    (t.creditorName ?? t.debtorName ?? "").trim(),
    (remittanceOf(t) ?? "").trim(),
    t.entryReference ?? t.bankTransactionCode ?? t.proprietaryBankTransactionCode ?? "",
  ];
}

/** One row to key: the row, its resolved date and whether it is pending. */
export interface KeyedRow {
  row: GcTransaction;
  date: string;
  currency: string;
  pending: boolean;
}

/**
 * Ids for one account's rows, in the order given. Identical derived rows on one day are told
 * apart by occurrence: the first gets the bare hash, the n-th `#n`, so the ids are the same on
 * every sync as long as the bank lists the same rows.
 */
export async function transactionIds(rows: KeyedRow[]): Promise<string[]> {
  const bankIdCount = new Map<string, number>();
  for (const r of rows) {
    if (!r.pending && usableBankId(r.row.transactionId)) {
      const id = r.row.transactionId.trim();
      bankIdCount.set(id, (bankIdCount.get(id) ?? 0) + 1);
    }
  }
  const seen = new Map<string, number>();
  const out: string[] = [];
  for (const r of rows) {
    const bankId = r.row.transactionId?.trim();
    if (!r.pending && usableBankId(bankId) && bankIdCount.get(bankId) === 1) {
      out.push(`tx:${bankId}`);
      continue;
    }
    const internal = r.row.internalTransactionId?.trim();
    if (!r.pending && internal) {
      out.push(`int:${internal}`);
      continue;
    }
    const hash = (await sha256Hex(derivedFields(r.row, r.date, r.currency).join("\u001f"))).slice(0, 32);
    const base = `${r.pending ? "pending:" : ""}h:${hash}`;
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    out.push(n === 1 ? base : `${base}#${n}`);
  }
  return out;
}
