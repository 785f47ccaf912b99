import type { MiddlewareHandler } from "hono";
import { NONCE, secureHeaders } from "hono/secure-headers";

// An API serves no active content: nothing may load, nothing may frame it.
const API_CSP = { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"] };

// The docs page runs the Scalar reference from this origin's static assets and fetches
// /openapi.json; nothing else may load. Scalar injects its styles at run time, hence inline
// styles (never inline scripts).
export const DOCS_CSP = {
  defaultSrc: ["'none'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'", "'unsafe-inline'"],
  fontSrc: ["'self'", "data:"],
  imgSrc: ["'self'", "data:"],
  connectSrc: ["'self'"],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'none'"],
};

/** The connect hand-off page runs one inline script, allowed by a per-response nonce only. */
export const HANDOFF_PATH = "/api/v1/connections/callback";
const HANDOFF_CSP = { ...API_CSP, scriptSrc: [NONCE], styleSrc: [NONCE], imgSrc: ["data:"] };

/** Development pages for emailed links (src/routes/dev-pages.ts) also call the API. */
const DEV_PAGES = new Set(["/verify-email", "/reset-password", "/forgot-password"]);
const DEV_PAGE_CSP = { ...HANDOFF_CSP, connectSrc: ["'self'"] };

/**
 * What every response carries: HSTS (2 years), nosniff, frame denial, no referrer, same-origin
 * resources. Pages also get Hono's HTML-only defaults.
 */
const COMMON = {
  strictTransportSecurity: "max-age=63072000; includeSubDomains",
  xFrameOptions: "DENY",
  xContentTypeOptions: "nosniff",
  referrerPolicy: "no-referrer",
  crossOriginResourcePolicy: "same-origin",
} as const;

/**
 * JSON is never rendered as a page, so the headers that only guard HTML (COOP, Origin-Agent-
 * Cluster, X-DNS-Prefetch-Control, X-Download-Options, X-Permitted-Cross-Domain-Policies,
 * X-XSS-Protection) are left off: OWASP REST Security Cheat Sheet, "Security Headers".
 */
const JSON_HEADERS: readonly [string, string][] = [
  ["Strict-Transport-Security", COMMON.strictTransportSecurity],
  ["X-Frame-Options", COMMON.xFrameOptions],
  ["X-Content-Type-Options", COMMON.xContentTypeOptions],
  ["Referrer-Policy", COMMON.referrerPolicy],
  ["Cross-Origin-Resource-Policy", COMMON.crossOriginResourcePolicy],
  // API_CSP as Hono writes it (test/integration/system.test.ts holds both to the same string).
  ["Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"],
];

/**
 * The API's answers carry tokens or personal data, and health answers are about this instant:
 * nothing may store either (docs/contract.md "Conventions"; RFC 9111 §5.2.2.5).
 */
const NO_STORE_HEADERS: readonly [string, string][] = [...JSON_HEADERS, ["Cache-Control", "no-store"]];

/** Which JSON answer a path gets, or null for a page. */
function jsonHeadersFor(path: string): readonly [string, string][] | null {
  if (path.startsWith("/api/") || path === "/health" || path.startsWith("/health/")) return NO_STORE_HEADERS;
  // The OpenAPI document and the JWKS may be cached (the JWKS route says for how long).
  if (path === "/openapi.json" || path.startsWith("/.well-known/")) return JSON_HEADERS;
  return null;
}

/**
 * Security headers by kind of answer: JSON (jsonHeadersFor), the docs page, the connect
 * hand-off page and the development pages (each its own CSP), any other page.
 */
export function securityHeaders(): MiddlewareHandler {
  const page = secureHeaders({ ...COMMON, contentSecurityPolicy: API_CSP });
  const docs = secureHeaders({ ...COMMON, contentSecurityPolicy: DOCS_CSP });
  // The hand-off page must keep its opener (a cross-origin popup's `window.opener`), so no COOP.
  const handOff = secureHeaders({ ...COMMON, contentSecurityPolicy: HANDOFF_CSP, crossOriginOpenerPolicy: false });
  const devPage = secureHeaders({ ...COMMON, contentSecurityPolicy: DEV_PAGE_CSP });
  return function securityHeaders(c, next) {
    const path = c.req.path;
    if (path === "/docs") return docs(c, next);
    if (DEV_PAGES.has(path)) return devPage(c, next);
    if (path === HANDOFF_PATH && c.req.method === "GET") {
      c.header("Cache-Control", "no-store");
      return handOff(c, next);
    }
    const json = jsonHeadersFor(path);
    if (!json) return page(c, next);
    // Set before the handler, so Hono builds them into the answer it makes (problem answers
    // too) instead of setting each on a finished Response (one runtime call apiece, which was a
    // measurable share of a small read: bench/README.md).
    for (const [name, value] of json) c.header(name, value);
    return next();
  };
}
