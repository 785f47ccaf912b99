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
 * HSTS (2 years), nosniff, frame denial and a CSP; the docs and hand-off pages get their own CSP,
 * pages (not `/api/`) also Hono's HTML-only defaults.
 */
export function securityHeaders(): MiddlewareHandler {
  const common = {
    strictTransportSecurity: "max-age=63072000; includeSubDomains",
    xFrameOptions: "DENY",
    xContentTypeOptions: "nosniff",
    referrerPolicy: "no-referrer",
    crossOriginResourcePolicy: "same-origin",
  } as const;
  const page = secureHeaders({ ...common, contentSecurityPolicy: API_CSP });
  // JSON is never rendered as a page, so the headers that only guard HTML (COOP, Origin-Agent-
  // Cluster, X-DNS-Prefetch-Control, X-Download-Options, X-Permitted-Cross-Domain-Policies,
  // X-XSS-Protection) are left off: OWASP REST Security Cheat Sheet, "Security Headers". Each
  // response header is a measurable share of a small read (bench/README.md).
  const api = secureHeaders({
    ...common,
    contentSecurityPolicy: API_CSP,
    crossOriginOpenerPolicy: false,
    originAgentCluster: false,
    xDnsPrefetchControl: false,
    xDownloadOptions: false,
    xPermittedCrossDomainPolicies: false,
    xXssProtection: false,
  });
  const docs = secureHeaders({ ...common, contentSecurityPolicy: DOCS_CSP });
  // The hand-off page must keep its opener (a cross-origin popup's `window.opener`), so no COOP.
  const handOff = secureHeaders({ ...common, contentSecurityPolicy: HANDOFF_CSP, crossOriginOpenerPolicy: false });
  const devPage = secureHeaders({ ...common, contentSecurityPolicy: DEV_PAGE_CSP });
  return async function securityHeaders(c, next) {
    if (c.req.path === "/docs") return docs(c, next);
    if (c.req.path === HANDOFF_PATH && c.req.method === "GET") return handOff(c, next);
    if (DEV_PAGES.has(c.req.path)) return devPage(c, next);
    return c.req.path.startsWith("/api/") ? api(c, next) : page(c, next);
  };
}
