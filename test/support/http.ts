import { exports } from "cloudflare:workers";

const BASE = "https://api.ledgerlink.test";

/** Sends a request through the Worker's real fetch handler (all middleware, real bindings). */
export function call(path: string, init: RequestInit & { json?: unknown } = {}): Promise<Response> {
  const { json, ...rest } = init;
  const headers = new Headers(rest.headers);
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
