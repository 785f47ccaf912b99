/**
 * The simulated institutions. Day counts are strings, as GoCardless sends them. One bank
 * (`LEDGERLINK_WRONGDAYS_LLWD0000`) advertises more history and access than it accepts, like the
 * banks behind actualbudget/actual#5714: agreements over 90 days are refused.
 */

/** One institution as the simulator knows it. */
export interface SimInstitution {
  id: string;
  name: string;
  bic: string;
  transaction_total_days: string;
  max_access_valid_for_days: string;
  countries: string[];
  logo: string;
  /** What the bank really accepts (equal to the advertised values but for the wrong-days bank). */
  acceptsHistoryDays: number;
  acceptsAccessDays: number;
}

const logo = (id: string) => `https://cdn-logos.gocardless.com/ais/${id}.png`;

export const INSTITUTIONS: SimInstitution[] = [
  {
    id: "SANDBOXFINANCE_SFIN0000",
    name: "Sandbox Finance",
    bic: "SFIN0000",
    transaction_total_days: "90",
    max_access_valid_for_days: "90",
    countries: ["XX"],
    logo: logo("SANDBOXFINANCE_SFIN0000"),
    acceptsHistoryDays: 90,
    acceptsAccessDays: 90,
  },
  {
    id: "REVOLUT_REVOGB21",
    name: "Revolut",
    bic: "REVOGB21",
    transaction_total_days: "730",
    max_access_valid_for_days: "180",
    countries: ["GB", "DE", "FR", "IE", "NL"],
    logo: logo("REVOLUT_REVOGB21"),
    acceptsHistoryDays: 730,
    acceptsAccessDays: 180,
  },
  {
    id: "ING_INGBNL2A",
    name: "ING",
    bic: "INGBNL2A",
    transaction_total_days: "540",
    max_access_valid_for_days: "90",
    countries: ["NL"],
    logo: logo("ING_INGBNL2A"),
    acceptsHistoryDays: 540,
    acceptsAccessDays: 90,
  },
  {
    id: "LEDGERLINK_WRONGDAYS_LLWD0000",
    name: "Wrong Days Bank (simulated)",
    bic: "LLWD0000",
    transaction_total_days: "730",
    max_access_valid_for_days: "180",
    countries: ["DE", "GB"],
    logo: logo("LEDGERLINK_WRONGDAYS_LLWD0000"),
    acceptsHistoryDays: 90,
    acceptsAccessDays: 90,
  },
];

/** The wire form (without the simulator's own fields). */
export function institutionJson(i: SimInstitution) {
  const { acceptsHistoryDays: _h, acceptsAccessDays: _a, ...wire } = i;
  return wire;
}

export const findInstitution = (id: string) => INSTITUTIONS.find((i) => i.id === id) ?? null;
