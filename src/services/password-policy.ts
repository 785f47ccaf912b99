import { COMMON_PASSWORDS } from "./common-passwords";

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;

/**
 * docs/contract.md "Defaults": password policy: 8–128 characters with upper, lower, digit and symbol, not on a common
 * password list. Returns every reason it fails (empty when acceptable).
 */
export function passwordProblems(password: string, context: { email?: string; name?: string } = {}): string[] {
  const reasons: string[] = [];
  const length = [...password].length;
  if (length < PASSWORD_MIN) reasons.push(`must be at least ${PASSWORD_MIN} characters`);
  if (length > PASSWORD_MAX) reasons.push(`must be at most ${PASSWORD_MAX} characters`);
  if (!/\p{Lu}/u.test(password)) reasons.push("must contain an upper-case letter");
  if (!/\p{Ll}/u.test(password)) reasons.push("must contain a lower-case letter");
  if (!/\p{Nd}/u.test(password)) reasons.push("must contain a digit");
  if (!/[^\p{L}\p{Nd}\s]/u.test(password)) reasons.push("must contain a symbol");
  const lower = password.toLowerCase();
  // The common list keeps only entries that pass the rules above (scripts/gen-common-passwords.mjs):
  // a password failing a rule is refused for that reason already.
  if (COMMON_PASSWORDS.has(lower)) reasons.push("is too common");
  const local = context.email?.split("@")[0]?.toLowerCase();
  if (local && local.length >= 4 && lower.includes(local)) reasons.push("must not contain your email address");
  return reasons;
}
