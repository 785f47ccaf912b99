/**
 * What a message is, for the per-address quota (docs/contract.md "Defaults": at most 5 of one kind
 * per hour), the queue's messages and the dead letters. Verification covers sign-up and
 * email-change confirmations. Kept apart from the templates so the D1 schema can name them.
 */
export const EMAIL_KINDS = [
  "verification",
  "password_reset",
  "signup_attempt",
  "security_notice",
  "account_locked",
  "account_deleted",
  "connection_notice",
] as const;
export type EmailKind = (typeof EMAIL_KINDS)[number];
