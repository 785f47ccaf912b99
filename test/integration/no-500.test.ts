import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src";
import { randomIp } from "../support/http";
import { seededSession } from "../support/seed";

// Every route in the OpenAPI document, hit with hostile inputs: the answer must always be a
// deliberate 4xx problem, never a 500 (docs/contract.md "Conventions"). Limits are raised so that
// validation, not rate limiting, answers.
const huge = { burst: 100_000, refill: 100_000, per_seconds: 1 };
const testEnv = {
  ...env,
  RATE_LIMITS: JSON.stringify(
    Object.fromEntries(
      [
        "login_ip",
        "login_email",
        "register_ip",
        "email_request_ip",
        "token_submit_ip",
        "refresh_session",
        "user_read",
        "user_write",
        "connect_provider",
      ].map((k) => [k, huge]),
    ),
  ),
} as Env;

const PARAMS = ["x", "0", "-1", "%F0%9F%98%80", "..%2F..%2Fetc", "a".repeat(300), "null", "usr_%00"];
const BODIES: (string | undefined)[] = [
  undefined,
  "",
  "{",
  "null",
  "[]",
  "42",
  '"str"',
  "{}",
  '{"email":{"$gt":""},"password":[],"name":null,"token":1,"refresh_token":{},"provider":"../x","alias":"\\u0000"}',
  JSON.stringify({ a: Array.from({ length: 50 }, () => ({ b: [[[[{}]]]] })) }),
];
const QUERIES = [
  "",
  "?limit=-5&cursor=%%%",
  "?limit=abc&cursor=e30&since=2020-13-45&until=x&count=9999999999999999999",
  "?to=not-an-email&q=",
];

async function send(method: string, path: string, body: string | undefined, token?: string) {
  const headers = new Headers({ "CF-Connecting-IP": randomIp() });
  if (body !== undefined) headers.set("Content-Type", "application/json");
  if (token) headers.set("Authorization", `Bearer ${token}`);
  return worker.fetch(
    new Request(`https://x.test${path}`, { method, headers, body }),
    testEnv,
    createExecutionContext(),
  );
}

describe("no input reaches a 500", () => {
  it("holds for every documented operation", async () => {
    const doc = (await (await send("GET", "/openapi.json", undefined)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const { tokens } = await seededSession("fuzzer");
    const failures: string[] = [];
    let requests = 0;
    for (const [template, ops] of Object.entries(doc.paths)) {
      for (const method of Object.keys(ops)) {
        if (template.includes("logout") || template.includes("sessions/all")) continue; // would end our session
        for (const param of PARAMS.slice(0, template.includes("{") ? PARAMS.length : 1)) {
          const path = template.replace(/\{[^}]+\}/g, param);
          for (const query of QUERIES) {
            for (const body of method === "get" ? [undefined] : BODIES) {
              for (const token of [undefined, tokens.access_token]) {
                const res = await send(method.toUpperCase(), path + query, body, token);
                requests++;
                if (res.status >= 500)
                  failures.push(
                    `${method.toUpperCase()} ${path}${query} body=${body?.slice(0, 40)} → ${res.status} ${await res.text()}`,
                  );
                else await res.body?.cancel();
              }
            }
          }
        }
      }
    }
    expect(requests).toBeGreaterThan(500);
    expect(failures).toEqual([]);
  }, 120_000);
});
