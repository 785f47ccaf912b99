import type { MiddlewareHandler } from "hono";
import type { AppEnv, ClientInfo } from "./app-env";
import { clientKey } from "./client-key";

const str = (v: unknown) => (typeof v === "string" && v.length > 0 ? v : null);

/** Reads client IP (`CF-Connecting-IP`), user agent and geo (`request.cf`) once per request. */
export function clientInfo(req: Request): ClientInfo {
  const cf = (req as Request & { cf?: Record<string, unknown> }).cf;
  const country = str(cf?.country);
  const region = str(cf?.region);
  const city = str(cf?.city);
  const ip = str(req.headers.get("CF-Connecting-IP")?.trim());
  return {
    ip,
    key: clientKey(ip),
    userAgent: str(req.headers.get("User-Agent")?.slice(0, 512)),
    location: country || region || city ? { country, region, city } : null,
  };
}

/** Middleware: attaches `client` to the context. */
export function requestContext(): MiddlewareHandler<AppEnv> {
  return async function requestContext(c, next) {
    c.set("client", clientInfo(c.req.raw));
    await next();
  };
}
