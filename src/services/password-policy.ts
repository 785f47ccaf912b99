import passwords from "@zxcvbn-ts/language-common/dist/passwords.json.mjs";

// ~30,000 most common passwords (zxcvbn-ts common dictionary, MIT), lower-cased.
let common: Set<string> | undefined;
const commonPasswords = () => {
  common ??= new Set((passwords as string[]).map((p) => p.toLowerCase()));
  return common;
};

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
  if (commonPasswords().has(lower)) reasons.push("is too common");
  const local = context.email?.split("@")[0]?.toLowerCase();
  if (local && local.length >= 4 && lower.includes(local)) reasons.push("must not contain your email address");
  return reasons;
}
