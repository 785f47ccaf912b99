import type { MiddlewareHandler } from "hono";
import { secureHeaders } from "hono/secure-headers";

// An API serves no active content: nothing may load, nothing may frame it.
const API_CSP = { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"] };

// The docs page runs the Scalar reference from its CDN and fetches /openapi.json.
export const DOCS_CSP = {
  defaultSrc: ["'none'"],
  scriptSrc: ["'self'", "'unsafe-inline'", "https://cdn.jsdelivr.net"],
  styleSrc: ["'self'", "'unsafe-inline'", "https://cdn.jsdelivr.net", "https://fonts.scalar.com"],
  fontSrc: ["'self'", "https://fonts.scalar.com", "https://cdn.jsdelivr.net"],
  imgSrc: ["'self'", "data:", "https:"],
  connectSrc: ["'self'"],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'none'"],
};

/** HSTS (2 years), nosniff, frame denial and a CSP; the docs page gets its own CSP. */
export function securityHeaders(): MiddlewareHandler {
  const common = {
    strictTransportSecurity: "max-age=63072000; includeSubDomains",
    xFrameOptions: "DENY",
    xContentTypeOptions: "nosniff",
    referrerPolicy: "no-referrer",
    crossOriginResourcePolicy: "same-origin",
  } as const;
  const api = secureHeaders({ ...common, contentSecurityPolicy: API_CSP });
  const docs = secureHeaders({ ...common, contentSecurityPolicy: DOCS_CSP });
  return async function securityHeaders(c, next) {
    return c.req.path === "/docs" ? docs(c, next) : api(c, next);
  };
}
