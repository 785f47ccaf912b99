/**
 * The connect hand-off's `return_to` allow-list (CONNECT_RETURN_URLS). Like an OAuth redirect
 * URI it is matched exactly (RFC 9700 §4.1.3): same scheme, host, port and path as an entry; the
 * app may add a query of its own. An entry `scheme://host:*` allows any port and path on that
 * host (the development default, for local apps).
 */
export function isAllowedReturnTo(allowList: readonly string[], candidate: string): boolean {
  let url: URL;
  try {
    url = new URL(candidate);
  } catch {
    return false;
  }
  if ((url.protocol !== "https:" && url.protocol !== "http:") || url.hash !== "" || url.username || url.password) {
    return false;
  }
  return allowList.some((entry) => {
    const anyPort = /^(https?):\/\/([^/:?#]+):\*$/.exec(entry);
    if (anyPort) return url.protocol === `${anyPort[1]}:` && url.hostname === anyPort[2]?.toLowerCase();
    const allowed = new URL(entry);
    return url.origin === allowed.origin && url.pathname === allowed.pathname;
  });
}

/** The URL the browser is sent back to: `return_to` with the provider's answer added to its query. */
export function returnUrlWith(returnTo: string, params: Record<string, string>): string {
  const url = new URL(returnTo);
  // The hand-off's own keys replace any the app put there, so `code` and `error` never both arrive.
  for (const key of ["state", "code", "error"]) url.searchParams.delete(key);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url.toString();
}
