import type { MiddlewareHandler } from "hono";
import { bodyLimit as honoBodyLimit } from "hono/body-limit";
import { fail } from "../errors";

/** docs/contract.md "Conventions": request bodies are capped at 64 KiB. */
export const MAX_BODY_BYTES = 64 * 1024;

/** 413 `payload_too_large` past 64 KiB, whether or not Content-Length is sent. */
export function bodyLimit(): MiddlewareHandler {
  return honoBodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () => {
      throw fail("payload_too_large", `The request body exceeds ${MAX_BODY_BYTES} bytes.`);
    },
  });
}

const JSON_MEDIA = /^application\/([\w.-]+\+)?json$/i;
const METHODS_WITH_BODY = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * For JSON endpoints: a non-empty body must be declared JSON (else 415) and must parse (else
 * 400 `malformed_json`). The parsed body stays cached on the request for the validators.
 */
export function jsonBody(): MiddlewareHandler {
  return async function jsonBody(c, next) {
    if (!METHODS_WITH_BODY.has(c.req.method)) return next();
    const raw = await c.req.arrayBuffer();
    if (raw.byteLength === 0) return next();
    const mediaType = (c.req.header("Content-Type") ?? "").split(";")[0]?.trim() ?? "";
    if (!JSON_MEDIA.test(mediaType)) {
      throw fail("unsupported_media_type", "Send the body as application/json.");
    }
    try {
      await c.req.json();
    } catch {
      throw fail("malformed_json", "The request body is not valid JSON.");
    }
    return next();
  };
}
