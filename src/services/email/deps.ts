import type { Deps } from "../../deps";

/** What email delivery and its dead letters depend on (a slice of src/deps.ts). */
export type EmailDeps = Pick<
  Deps,
  | "db"
  | "config"
  | "logger"
  | "now"
  | "random"
  | "sleep"
  | "emailQueue"
  | "emailDeadLetters"
  | "emailSender"
  | "trace"
  | "metrics"
>;
