/**
 * Sandbox scenarios (docs/contract.md "The sandbox provider"): what a login's data looks like and how its
 * trader endpoints misbehave. Token-endpoint behaviour (revoked, rotating) lives in the routes.
 */

/** Every scenario the authorize endpoint accepts via `?scenario=`. */
export const SCENARIOS = [
  "default",
  "large",
  "empty",
  "flaky",
  "slow",
  "rate_limited",
  "payment_required",
  "revoked",
  "rotating",
  "malformed",
  "pending_to_posted",
] as const;

/** One sandbox scenario name. */
export type Scenario = (typeof SCENARIOS)[number];

/** Whether a string names a scenario. */
export function isScenario(value: string): value is Scenario {
  return (SCENARIOS as readonly string[]).includes(value);
}

/** How a trader call misbehaves before (or instead of) answering. */
export type TraderFault =
  | { kind: "respond"; status: number; body: string; headers?: Record<string, string> }
  | { kind: "delay"; ms: number };

/** Knobs the faults read; see SandboxOptions. */
export interface FaultSettings {
  flakyFailures: number;
  slowDelayMs: number;
  retryAfterSeconds: number;
}

const json = (v: unknown) => JSON.stringify(v);

/**
 * The fault for a trader call, or null to answer normally. `callNumber` counts this access
 * token's trader calls (1-based), which is how `flaky` fails only the first ones.
 */
export function traderFault(scenario: Scenario, callNumber: number, s: FaultSettings): TraderFault | null {
  switch (scenario) {
    case "flaky":
      if (callNumber > s.flakyFailures) return null;
      // Schwab's documented error shape: {message, errors[]}.
      return {
        kind: "respond",
        status: 500,
        body: json({ message: "Internal Server Error", errors: ["A temporary error occurred, please retry"] }),
      };
    case "slow":
      return { kind: "delay", ms: s.slowDelayMs };
    case "rate_limited":
      // The gateway envelope, with a numeric status as some captures show.
      return {
        kind: "respond",
        status: 429,
        headers: { "Retry-After": String(s.retryAfterSeconds) },
        body: json({
          errors: [{ id: crypto.randomUUID(), status: 429, title: "Too Many Requests", detail: "Rate limit exceeded" }],
        }),
      };
    case "payment_required":
      // An Apigee fault body, the third error shape docs/providers/schwab.md lists.
      return {
        kind: "respond",
        status: 402,
        body: json({
          fault: { faultstring: "Payment Required", detail: { errorcode: "policies.quota.PaymentRequired" } },
        }),
      };
    case "malformed":
      // 200 with a JSON content type and a body cut off mid-way.
      return { kind: "respond", status: 200, body: '[{"securitiesAccount":{"type":"MARGIN","accountNumber":' };
    default:
      return null;
  }
}
