import type { MiddlewareHandler } from "hono";
import { traceFrom } from "../trace";
import type { AppEnv, ClientInfo } from "./app-env";
import { clientKey } from "./client-key";

const str = (v: unknown) => (typeof v === "string" && v.length > 0 ? v : null);

/**
 * Reads client IP (`CF-Connecting-IP`) and user agent once per request; geo (`request.cf`) only
 * when asked (audit and sessions), since workerd builds `cf` anew on each access and reads never
 * need it.
 */
export function clientInfo(req: Request): ClientInfo {
  const ip = str(req.headers.get("CF-Connecting-IP")?.trim());
  let location: ClientInfo["location"] | undefined;
  return {
    ip,
    key: clientKey(ip),
    userAgent: str(req.headers.get("User-Agent")?.slice(0, 512)),
    get location() {
      if (location === undefined) {
        const cf = (req as Request & { cf?: Record<string, unknown> }).cf;
        const country = str(cf?.country);
        const region = str(cf?.region);
        const city = str(cf?.city);
        location = country || region || city ? { country, region, city } : null;
      }
      return location;
    },
  };
}

/** Middleware: attaches `client` to the context. */
export function requestContext(): MiddlewareHandler<AppEnv> {
  return function requestContext(c, next) {
    c.set("client", clientInfo(c.req.raw));
    // W3C Trace Context: continue the caller's trace, or start one (src/trace.ts).
    c.set("trace", traceFrom(c.req.header("traceparent")));
    return next();
  };
}
