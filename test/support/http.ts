import { exports } from "cloudflare:workers";

const BASE = "https://api.ledgerlink.test";

/** A random private-range client address, so tests don't share per-IP rate limits. */
export const randomIp = () =>
  `10.${(Math.random() * 255) | 0}.${(Math.random() * 255) | 0}.${(Math.random() * 254 + 1) | 0}`;

/**
 * Sends a request through the Worker's real fetch handler (all middleware, real bindings). Each
 * call comes from a fresh client IP unless the caller sets CF-Connecting-IP.
 */
export function call(path: string, init: RequestInit & { json?: unknown } = {}): Promise<Response> {
  const { json, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (!headers.has("CF-Connecting-IP")) headers.set("CF-Connecting-IP", randomIp());
  if (json !== undefined) {
    headers.set("Content-Type", "application/json");
    rest.body = JSON.stringify(json);
  }
  return exports.default.fetch(new Request(BASE + path, { ...rest, headers }));
}

/** The parsed problem+json body of an error response, after checking its media type. */
export async function problem(res: Response) {
  if (res.headers.get("Content-Type") !== "application/problem+json") {
    throw new Error(`expected problem+json, got ${res.headers.get("Content-Type")}: ${await res.text()}`);
  }
  return (await res.json()) as {
    type: string;
    title: string;
    status: number;
    detail: string;
    code: string;
    request_id: string;
    errors?: { path: string; message: string }[];
  };
}
