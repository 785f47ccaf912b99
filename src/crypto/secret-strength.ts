/**
 * Catches secrets that are obviously not random: a repeated pattern ("abcdabcd…", all zeros) or
 * too few distinct bytes. 32 random bytes have ~30 distinct values (fewer than 16 happens with
 * probability far below 2^-40), and never a period of 16 bytes or less. It cannot prove a secret
 * random; it refuses the placeholders and hand-typed keys people really deploy.
 */
export function weakSecretReason(bytes: Uint8Array): string | null {
  if (bytes.length < 32) return "must be at least 32 bytes";
  if (new Set(bytes).size < 16) return "has too few distinct bytes to be random";
  for (let period = 1; period <= 16; period++) {
    let repeats = true;
    for (let i = period; i < bytes.length && repeats; i++) repeats = bytes[i] === bytes[i - period];
    if (repeats) return `repeats a ${period}-byte pattern`;
  }
  return null;
}

/** Bytes of a standard or URL-safe base64 string, or null when it is not base64. */
export function base64Bytes(text: string): Uint8Array | null {
  try {
    return Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}
