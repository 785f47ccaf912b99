/**
 * An email failure as logs and dead letters may keep it: never the recipient, never a link (they
 * carry single-use tokens), whatever a provider or a binding put in its message.
 */
const URL_LIKE = /\bhttps?:\/\/\S+/gi;

export function redactFailure(err: unknown, to: string | null): string {
  let text = err instanceof Error ? err.message : String(err);
  text = text.replace(URL_LIKE, "<link>");
  if (to) {
    const address = to.trim();
    if (address) text = text.replace(new RegExp(address.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "gi"), "<recipient>");
  }
  return text.slice(0, 500);
}
