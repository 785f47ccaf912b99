import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  auditFor,
  authorize,
  type ConnectionJson,
  callbackGet,
  callbackPost,
  complete,
  connectSandbox,
  devRefresh,
  rawConnection,
  started,
} from "../support/connections";
import { problem } from "../support/http";
import { authed } from "../support/identity";
import { seededSession } from "../support/seed";

const json = async <T>(res: Response) => (await res.json()) as T;

describe("list and get", () => {
  it("shows users only their own connections; another user's id is 404", async () => {
    const alice = await seededSession("alice");
    const bob = await seededSession("bob");
    const first = await connectSandbox(alice.tokens.access_token, { alias: "One" });
    const second = await started(alice.tokens.access_token, { alias: "Two" });
    const bobs = await connectSandbox(bob.tokens.access_token);

    const list = await json<{ connections: ConnectionJson[] }>(
      await authed(alice.tokens.access_token, "/api/v1/connections"),
    );
    expect(list.connections.map((c) => [c.id, c.alias, c.status])).toEqual([
      [first.id, "One", "active"],
      [second.connection.id, "Two", "pending"],
    ]);
    // No credential material in any answer.
    expect(JSON.stringify(list)).not.toMatch(/token_enc|I0\.|R0\./);

    for (const [method, path] of [
      ["GET", `/api/v1/connections/${bobs.id}`],
      ["PATCH", `/api/v1/connections/${bobs.id}`],
      ["DELETE", `/api/v1/connections/${bobs.id}`],
      ["POST", `/api/v1/connections/${bobs.id}/reauthorize`],
      ["POST", `/api/v1/dev/connections/${bobs.id}/refresh`],
      ["GET", "/api/v1/connections/con_doesnotexist"],
    ] as const) {
      const res = await authed(alice.tokens.access_token, path, {
        method,
        ...(method === "PATCH" ? { json: { alias: "mine now" } } : {}),
      });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect((await problem(res)).code).toBe("not_found");
    }
    const untouched = await json<ConnectionJson>(
      await authed(bob.tokens.access_token, `/api/v1/connections/${bobs.id}`),
    );
    expect(untouched.alias).toBeNull();
    expect(untouched.status).toBe("active");
  });

  it("needs a bearer token", async () => {
    for (const path of ["/api/v1/connections", "/api/v1/connections/con_x"]) {
      expect((await authed("not-a-token", path)).status).toBe(401);
    }
  });
});

describe("PATCH /api/v1/connections/{id}", () => {
  it("renames, clears the alias, audits, and refuses bad aliases with 422", async () => {
    const { tokens } = await seededSession();
    const connection = await connectSandbox(tokens.access_token);
    const path = `/api/v1/connections/${connection.id}`;
    const renamed = await authed(tokens.access_token, path, { method: "PATCH", json: { alias: " Retirement " } });
    expect(renamed.status).toBe(200);
    expect((await json<ConnectionJson>(renamed)).alias).toBe("Retirement");
    const cleared = await authed(tokens.access_token, path, { method: "PATCH", json: { alias: null } });
    expect((await json<ConnectionJson>(cleared)).alias).toBeNull();
    expect(await auditFor("connection.renamed", connection.id)).toHaveLength(2);
    for (const body of [{}, { alias: "" }, { alias: 5 }, { alias: "x".repeat(101) }]) {
      const res = await authed(tokens.access_token, path, { method: "PATCH", json: body });
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect((await problem(res)).code).toBe("validation_failed");
    }
  });
});

describe("DELETE /api/v1/connections/{id}", () => {
  it("destroys the credentials and outstanding states, audits, and then answers 404", async () => {
    const { tokens } = await seededSession();
    const connection = await connectSandbox(tokens.access_token);
    const pending = await started(tokens.access_token);
    expect(await rawConnection(connection.id)).not.toBeNull();

    const res = await authed(tokens.access_token, `/api/v1/connections/${connection.id}`, { method: "DELETE" });
    expect(res.status).toBe(204);
    expect(await rawConnection(connection.id)).toBeNull();
    const states = await env.DB.prepare("SELECT COUNT(*) AS n FROM oauth_states WHERE connection_id = ?")
      .bind(connection.id)
      .first<{ n: number }>();
    expect(states?.n).toBe(0);
    const [deleted] = await auditFor("connection.deleted", connection.id);
    expect(deleted?.details).toMatchObject({ provider: "sandbox", status: "active", had_credentials: true });
    expect((await authed(tokens.access_token, `/api/v1/connections/${connection.id}`)).status).toBe(404);
    const again = await authed(tokens.access_token, `/api/v1/connections/${connection.id}`, { method: "DELETE" });
    expect(again.status).toBe(404);

    // Deleting a pending connection kills its authorization request: the callback is refused.
    const location = await authorize(pending.authorization_url);
    await authed(tokens.access_token, `/api/v1/connections/${pending.connection.id}`, { method: "DELETE" });
    expect((await problem(await callbackGet(location))).code).toBe("invalid_state");
    const late = await callbackPost(tokens.access_token, {
      state: pending.state,
      code: location.searchParams.get("code") ?? "",
    });
    expect((await problem(late)).code).toBe("invalid_state");
  });
});

describe("POST /api/v1/connections/{id}/reauthorize", () => {
  it("refuses a healthy connection with 409 reauth_not_needed", async () => {
    const { tokens } = await seededSession();
    const connection = await connectSandbox(tokens.access_token);
    const res = await authed(tokens.access_token, `/api/v1/connections/${connection.id}/reauthorize`, {
      method: "POST",
    });
    expect(res.status).toBe(409);
    expect((await problem(res)).code).toBe("reauth_not_needed");
  });

  it("re-links a reauth_required connection under the same id and supersedes older states", async () => {
    const { tokens } = await seededSession();
    const connection = await connectSandbox(tokens.access_token, { scenario: "revoked" });
    const refused = await devRefresh(tokens.access_token, connection.id, true);
    expect((await problem(refused)).code).toBe("reauth_required");

    const path = `/api/v1/connections/${connection.id}/reauthorize`;
    const first = await json<{ authorization_url: string; state: string }>(
      await authed(tokens.access_token, path, { method: "POST", json: {} }),
    );
    const second = await authed(tokens.access_token, path, { method: "POST", json: { scenario: "default" } });
    expect(second.status).toBe(200);
    const start = await json<{ authorization_url: string; state: string; expires_in: number }>(second);
    expect(start.expires_in).toBe(600);
    expect(new URL(start.authorization_url).searchParams.get("scenario")).toBe("default");

    // The first request was superseded by the second.
    expect((await problem(await callbackGet(await authorize(first.authorization_url)))).code).toBe("invalid_state");
    const staleLocation = await authorize(first.authorization_url);
    const stale = await callbackPost(tokens.access_token, {
      state: first.state,
      code: staleLocation.searchParams.get("code") ?? "",
    });
    expect((await problem(stale)).code).toBe("invalid_state");
    const [refusal] = await auditFor("connection.state_refused", connection.id);
    expect(refusal?.details.reason).toBe("used");

    const done = await complete(tokens.access_token, start.authorization_url);
    expect(done.status).toBe(200);
    const { connection: after } = await json<{ connection: ConnectionJson }>(done);
    expect(after).toMatchObject({ id: connection.id, status: "active", last_error: null, consecutive_failures: 0 });
    expect(await auditFor("connection.reauthorize_started", connection.id)).toHaveLength(2);
    expect((await auditFor("connection.reauthorized", connection.id))[0]?.details.purpose).toBe("reauthorize");
    // The new grant works: a forced refresh succeeds.
    expect((await devRefresh(tokens.access_token, connection.id, true)).status).toBe(200);
  });

  it("is allowed before the credentials expire (reauth_recommended), and validates its body", async () => {
    const { tokens } = await seededSession();
    const connection = await connectSandbox(tokens.access_token);
    await env.DB.prepare("UPDATE connections SET refresh_token_expires_at = ? WHERE id = ?")
      .bind(Date.now() + 86_400_000, connection.id)
      .run();
    const now = await json<ConnectionJson>(await authed(tokens.access_token, `/api/v1/connections/${connection.id}`));
    expect(now).toMatchObject({ status: "active", reauth_recommended: true });
    const path = `/api/v1/connections/${connection.id}/reauthorize`;
    const bad = await authed(tokens.access_token, path, { method: "POST", json: { scenario: "bogus" } });
    expect(bad.status).toBe(422);
    expect((await authed(tokens.access_token, path, { method: "POST" })).status).toBe(200);
  });

  it("resumes an abandoned connect (pending)", async () => {
    const { tokens } = await seededSession();
    const start = await started(tokens.access_token);
    const res = await authed(tokens.access_token, `/api/v1/connections/${start.connection.id}/reauthorize`, {
      method: "POST",
    });
    expect(res.status).toBe(200);
    const again = await json<{ authorization_url: string }>(res);
    const done = await complete(tokens.access_token, again.authorization_url);
    expect((await json<{ connection: ConnectionJson }>(done)).connection.status).toBe("active");
  });
});
