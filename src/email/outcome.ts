/**
 * The one place an email's outcome is known: sent, to be retried, or dead-lettered (recorded): a
 * log line and the `email` data point of docs/operations.md "Metrics" (kind, outcome, attempts).
 * Never an address or a link: the email's id, kind and codes.
 */
import type { Logger } from "../logger";
import type { Metrics } from "../metrics";
import type { EmailKind } from "./kinds";

export type EmailOutcome = "sent" | "retry" | "dead_letter";

export interface EmailOutcomeReport {
  email_id: string;
  kind: EmailKind;
  outcome: EmailOutcome;
  /** Deliveries so far (the queue message's `attempts`). */
  attempts: number;
  /** For `retry` and `dead_letter`: the error code, the redacted message, the delay. */
  code?: string;
  error?: string;
  delay_seconds?: number;
}

const LEVEL = { sent: "info", retry: "warn", dead_letter: "error" } as const;

export function reportEmailOutcome(deps: { logger: Logger; metrics: Metrics }, report: EmailOutcomeReport) {
  deps.logger[LEVEL[report.outcome]](`email ${report.outcome === "dead_letter" ? "dead-lettered" : report.outcome}`, {
    ...report,
  });
  deps.metrics.email({ emailKind: report.kind, outcome: report.outcome, attempts: report.attempts });
}
