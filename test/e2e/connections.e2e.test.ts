import { describe, expect, inject, it } from "vitest";
import { client, completeConnect, connectSandbox, d1, d1Many, newUser } from "./support";

const base = inject("baseUrl");
const persistTo = inject("persistTo");
const { send } = client(base);

interface Connection {
  id: string;
  status: string;
  last_error: { code: string } | null;
}

// One journey over real HTTP against `wrangler dev`: the browser's redirect flow, the stored
// ciphertext seen directly in D1, state replay, refresh outcomes and scenario → state.
describe("provider connections over HTTP", () => {
  let token: string;
  let connectionId: string;

  it("offers the four sandboxes, one of each kind of link", async () => {
    token = await newUser(base, "conn");
    const res = await send("/api/v1/providers", { token });
    const { providers } = (await res.json()) as {
      providers: { slug: string; auth_type: string; configured: boolean }[];
    };
    const configured = providers.filter((p) => p.configured).map((p) => [p.slug, p.auth_type]);
    expect(configured).toEqual(
      expect.arrayContaining([
        ["sandbox", "oauth2"],
        ["sandbox_alpaca", "oauth2"],
        ["sandbox_gocardless", "bank_consent"],
        ["sandbox_simplefin", "setup_token"],
      ]),
    );
  });

  it("connects through the real redirect: /sandbox, 302 to our callback (a hand-off page), then POST", async () => {
    const { started, location } = await connectSandbox(base, token, { scenario: "rotating", alias: "E2E" });
    connectionId = started.connection.id;
    expect(started.authorization_url.startsWith(`${base}/sandbox/v1/oauth/authorize?`)).toBe(true);
    expect(location.startsWith(`${base}/api/v1/connections/callback?`)).toBe(true);
    const page = await send(location, { headers: { Accept: "text/html" } });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain("Return to the app");
    expect(html).not.toContain("E2E");
    const pending = (await (await send(`/api/v1/connections/${connectionId}`, { token })).json()) as Connection;
    expect(pending.status).toBe("pending");

    expect((await completeConnect(base, token, location)).status).toBe(200);
    const replay = await completeConnect(base, token, location).catch((e: Error) => e.message);
    expect(String(replay)).toContain("invalid_state");

    const got = (await (await send(`/api/v1/connections/${connectionId}`, { token })).json()) as Connection;
    expect(got.status).toBe("active");
  });

  it("stores provider tokens only as ciphertext (a direct look at D1)", () => {
    const tables = ["connections", "oauth_states", "audit_events"];
    const [rows, ...dumps] = d1Many(persistTo, [
      `SELECT access_token_enc, refresh_token_enc, credentials_key_id FROM connections WHERE id = '${connectionId}'`,
      ...tables.map((table) => `SELECT * FROM ${table}`),
    ]);
    const row = rows?.[0] as Record<string, string> | undefined;
    expect(row?.access_token_enc).toMatch(/^v1\.dev-[0-9a-f]+\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    expect(row?.refresh_token_enc).toMatch(/^v1\.dev-/);
    // Sandbox tokens look like Schwab's (`I0.…@`, `R0.…@`); none may appear in any table.
    expect(dumps).toHaveLength(tables.length);
    tables.forEach((table, i) => {
      expect(JSON.stringify(dumps[i]), table).not.toMatch(/(I0|R0|C0)\.[A-Za-z0-9_-]{20,}/);
    });
  });

  it("refreshes (rotated refresh token) and maps a revoked grant to reauth_required", async () => {
    const refreshed = await send(`/api/v1/dev/connections/${connectionId}/refresh`, {
      method: "POST",
      token,
      json: { force: true },
    });
    expect(await refreshed.json()).toMatchObject({ refreshed: true, refresh_token: "rotated" });

    const revoked = await connectSandbox(base, token, { scenario: "revoked" });
    expect((await completeConnect(base, token, revoked.location)).status).toBe(200);
    const id = revoked.started.connection.id;
    const refused = await send(`/api/v1/dev/connections/${id}/refresh`, {
      method: "POST",
      token,
      json: { force: true },
    });
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { code: string }).code).toBe("reauth_required");
    const after = (await (await send(`/api/v1/connections/${id}`, { token })).json()) as Connection;
    expect(after).toMatchObject({ status: "reauth_required", last_error: { code: "reauth_required" } });
    const again = await send(`/api/v1/connections/${id}/reauthorize`, { method: "POST", token });
    expect(again.status).toBe(200);
  });

  it("deletes the connection and its credentials", async () => {
    expect((await send(`/api/v1/connections/${connectionId}`, { method: "DELETE", token })).status).toBe(204);
    expect(d1(persistTo, `SELECT id FROM connections WHERE id = '${connectionId}'`)).toEqual([]);
  });
});
