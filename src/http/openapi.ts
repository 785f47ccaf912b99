import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context, TypedResponse } from "hono";
import { type DomainError, fail, invalidField, notFound } from "../errors";
import type { JsonText } from "../wire/json-text";
import type { AppEnv } from "./app-env";
import { problemBody } from "./problems";
import { validationHook } from "./validation";

/** A router whose validators all report through the shared error boundary. */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({ defaultHook: (result) => validationHook(result) });
}

export const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: "urn:ledgerlink:problem:validation_failed" }),
    title: z.string().openapi({ example: "Unprocessable Content" }),
    status: z.number().int().openapi({ example: 422 }),
    detail: z.string(),
    code: z.string().openapi({ description: "Stable machine-readable error code (docs/contract.md, Errors)." }),
    request_id: z.string(),
    errors: z
      .array(z.object({ path: z.string(), message: z.string() }))
      .optional()
      .openapi({ description: "Field problems, for `validation_failed` and `weak_password`." }),
  })
  .openapi("Problem", { description: "RFC 9457 problem details." });

const DESCRIPTIONS: Record<number, string> = {
  400: "Malformed JSON or an invalid/used/expired token.",
  401: "Missing, invalid, expired or revoked credentials (see `code`).",
  403: "Authenticated but not allowed.",
  404: "No such resource, or it belongs to someone else.",
  405: "Method not allowed on this path; see `Allow`.",
  409: "The resource's state conflicts with the request.",
  413: "Body over 64 KiB.",
  415: "Body is not application/json.",
  422: "The input failed validation; see `errors`.",
  423: "Account locked; see `Retry-After`.",
  426: "This endpoint needs a WebSocket upgrade.",
  429: "Rate limited; see `Retry-After`.",
  500: "Unexpected error; only the request id is returned.",
  501: "This deployment cannot do that (e.g. its storage keeps no history).",
  502: "The provider answered with an error.",
  503: "Misconfigured or a dependency is unavailable.",
};

/** A representative problem for each status, built by the same code that answers (problems.ts). */
const EXAMPLE_ERRORS: Record<number, () => DomainError> = {
  400: () => fail("malformed_json", "The request body is not valid JSON."),
  401: () => fail("unauthenticated", "Send a bearer access token."),
  403: () => fail("forbidden", "Administrators only."),
  404: () => notFound("connection"),
  405: () => fail("method_not_allowed", "This path does not accept that method."),
  409: () => fail("reauth_required", "This connection needs re-authorization."),
  413: () => fail("payload_too_large", "The request body exceeds 65536 bytes."),
  415: () => fail("unsupported_media_type", "Send the body as application/json."),
  422: () => invalidField("email", "must be an email address"),
  423: () => fail("account_locked", "Too many failed attempts from this client; try again later."),
  426: () => fail("upgrade_required", "Upgrade to a WebSocket."),
  429: () => fail("rate_limited", "Too many requests; retry after the time in Retry-After."),
  500: () => fail("internal_error", "Something went wrong on our side; quote the request id."),
  501: () => fail("restore_not_supported", "This deployment's Durable Object storage keeps no history to restore."),
  502: () => fail("provider_error", "The provider answered with an error; try again later."),
  503: () => fail("unavailable", "Try again shortly."),
};

const EXAMPLE_REQUEST_ID = "3f2b8c1e-7d4a-4b9e-9c61-0a5d2e8f4b17";

/** One problem+json response entry, for routes that list their statuses by hand. */
export const problemDoc = (status: number) => {
  const example = EXAMPLE_ERRORS[status];
  return {
    description: DESCRIPTIONS[status] ?? "Error.",
    content: {
      "application/problem+json": {
        schema: ProblemSchema,
        ...(example ? { example: problemBody(example(), EXAMPLE_REQUEST_ID) } : {}),
      },
    },
  };
};

/** Error responses for a route: the given statuses plus those any route can answer. */
export function problems(...statuses: number[]) {
  const all = new Set([...statuses, 500, 503]);
  return Object.fromEntries([...all].sort((a, b) => a - b).map((s) => [s, problemDoc(s)]));
}

/** Errors any JSON-body route can answer, on top of its own. */
export const BODY_PROBLEMS = [400, 413, 415, 422] as const;

export const jsonContent = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

export const jsonBodyOf = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { "application/json": { schema } },
});

/**
 * A 200 JSON answer whose text was serialised elsewhere (by the user's home, src/home/ledger/reads.ts),
 * typed as the route's schema `T` says it is.
 */
export function jsonText<T>(c: Context, text: JsonText<T>): TypedResponse<T, 200, "json"> {
  // The text was serialised from a T (src/wire/json-text.ts); Hono's types know only c.json's.
  return c.body(text, 200, { "Content-Type": "application/json" }) as unknown as TypedResponse<T, 200, "json">;
}
