/**
 * Deleted means deleted at the bank too: deleting a GoCardless connection, or the whole account,
 * withdraws its consent at GoCardless (DELETE /requisitions/{id}/, which also deletes its end-user
 * agreements), so the bank stops sharing the person's data with us. Checked against the simulator,
 * which answers 404 for a requisition once deleted.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { findConnection } from "../../src/db/connections";
import type { GoCardlessAdapter } from "../../src/providers/gocardless/adapter";
import { openCredentials } from "../../src/services/connections/credentials";
import { callbackPost } from "../support/connections";
import { testDeps } from "../support/deps";
import { connectionSql } from "../support/home";
import { call } from "../support/http";
import { authed } from "../support/identity";
import { seededSession } from "../support/seed";
import { attempt, queuedRun } from "../support/sync";

/** Consents at the simulated bank's page and completes the connection with the hand-off. */
async function consent(token: string, authorizationUrl: string) {
  const url = new URL(authorizationUrl);
  const back = new URL((await call(url.pathname + url.search, { redirect: "manual" })).headers.get("Location") ?? "");
  const handOff = await call(back.pathname + back.search, { headers: { Accept: "application/json" } });
  const done = await callbackPost(token, (await handOff.json()) as { state: string; code: string });
  expect(done.status).toBe(200);
  return ((await done.json()) as { connection: { id: string } }).connection.id;
}

async function connectBank(token: string, login?: string) {
  const res = await authed(token, "/api/v1/connections", {
    method: "POST",
    json: { provider: "sandbox_gocardless", institution_id: "SANDBOXFINANCE_SFIN0000", ...(login ? { login } : {}) },
  });
  return consent(token, ((await res.json()) as { authorization_url: string }).authorization_url);
}

/** The connection's requisition at the simulated GoCardless, and a way to ask for it again. */
async function requisitionOf(connectionId: string) {
  const deps = await testDeps();
  const row = await findConnection(deps.db, connectionId);
  if (!row) throw new Error("no connection");
  const { credential } = await openCredentials(deps.config.encryption.keyring, row);
  const link = deps.providers.get("sandbox_gocardless")?.link as { adapter: GoCardlessAdapter };
  return { id: credential, look: () => link.adapter.requisition(credential) };
}

describe("a deleted bank connection's consent is withdrawn at the bank", () => {
  it("DELETE /connections/{id}: the requisition is deleted at GoCardless", async () => {
    const { tokens } = await seededSession();
    const id = await connectBank(tokens.access_token);
    const requisition = await requisitionOf(id);
    expect((await requisition.look()).status).toBe("LN");
    expect((await authed(tokens.access_token, `/api/v1/connections/${id}`, { method: "DELETE" })).status).toBe(204);
    await expect(requisition.look()).rejects.toMatchObject({ status: 404 });
  });

  it("a reauthorized consent replaces the old one, which is withdrawn at the bank", async () => {
    const { tokens } = await seededSession();
    const id = await connectBank(tokens.access_token);
    const old = await requisitionOf(id);
    // Near its end, the consent may be renewed (reauth_recommended).
    await env.DB.prepare("UPDATE connections SET consent_expires_at = ? WHERE id = ?")
      .bind(Date.now() + 86_400_000, id)
      .run();
    const re = await authed(tokens.access_token, `/api/v1/connections/${id}/reauthorize`, { method: "POST" });
    expect(re.status, await re.clone().text()).toBe(200);
    expect(
      await consent(tokens.access_token, ((await re.json()) as { authorization_url: string }).authorization_url),
    ).toBe(id);
    const renewed = await requisitionOf(id);
    expect(renewed.id).not.toBe(old.id);
    expect((await renewed.look()).status).toBe("LN");
    await expect(old.look()).rejects.toMatchObject({ status: 404 });
  });

  it("a connection a relink retires (the same bank linked again) has its consent withdrawn", async () => {
    const { tokens } = await seededSession();
    const login = `relink-${crypto.randomUUID()}`;
    const first = await connectBank(tokens.access_token, login);
    await attempt(await queuedRun(first), 1);
    const old = await requisitionOf(first);
    const second = await connectBank(tokens.access_token, login);
    await attempt(await queuedRun(second), 1);
    // The second link took the accounts over (by IBAN) and the first retired, its quota with it.
    expect((await authed(tokens.access_token, `/api/v1/connections/${first}`)).status).toBe(404);
    const quota = (id: string) =>
      connectionSql(second, "SELECT COUNT(*) AS n FROM provider_calls WHERE connection_id = ?", id);
    expect(await quota(first)).toEqual([{ n: 0 }]);
    expect(await quota(second)).toEqual([{ n: 1 }]);
    // Withdrawn after the consumer's work (its waitUntil), so look until it is.
    await vi.waitFor(() => expect(old.look()).rejects.toMatchObject({ status: 404 }), { timeout: 5000 });
    expect((await (await requisitionOf(second)).look()).status).toBe("LN");
  });

  it("DELETE /auth/me: every bank consent of the account is withdrawn", async () => {
    const { tokens } = await seededSession();
    const first = await requisitionOf(await connectBank(tokens.access_token));
    const second = await requisitionOf(await connectBank(tokens.access_token));
    const res = await authed(tokens.access_token, "/api/v1/auth/me", {
      method: "DELETE",
      json: { password: "Tr1cky-Bison-42!" },
    });
    expect(res.status).toBe(204);
    await expect(first.look()).rejects.toMatchObject({ status: 404 });
    await expect(second.look()).rejects.toMatchObject({ status: 404 });
  });

  it("reauthorizing again and again shares the connect budget: one user cannot drain the bank provider's calls", async () => {
    const { tokens } = await seededSession();
    const res = await authed(tokens.access_token, "/api/v1/connections", {
      method: "POST",
      json: { provider: "sandbox_gocardless", institution_id: "SANDBOXFINANCE_SFIN0000" },
    });
    const { connection } = (await res.json()) as { connection: { id: string } };
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const again = await authed(tokens.access_token, `/api/v1/connections/${connection.id}/reauthorize`, {
        method: "POST",
      });
      statuses.push(again.status);
    }
    // connect_provider: 5 a minute, the connect itself included.
    expect(statuses.filter((s) => s === 200)).toHaveLength(4);
    expect(statuses.slice(4)).toEqual([429, 429, 429, 429]);
  });

  it("consents started and never completed are withdrawn when superseded or when their connection is deleted", async () => {
    const { tokens } = await seededSession();
    const deps = await testDeps();
    const link = deps.providers.get("sandbox_gocardless")?.link;
    if (link?.kind !== "bank_consent") throw new Error("the GoCardless sandbox is not offered");
    const adapter: GoCardlessAdapter = link.adapter;
    /** The requisition a consent link leads to (`…/psd2/start/<requisition>/<bank>`). */
    const requisitionIn = (link: string) => decodeURIComponent(new URL(link).pathname.split("/").at(-2) ?? "");
    const res = await authed(tokens.access_token, "/api/v1/connections", {
      method: "POST",
      json: { provider: "sandbox_gocardless", institution_id: "SANDBOXFINANCE_SFIN0000" },
    });
    const started = (await res.json()) as { connection: { id: string }; authorization_url: string };
    const first = requisitionIn(started.authorization_url);
    expect((await adapter.requisition(first)).id).toBe(first);
    const re = await authed(tokens.access_token, `/api/v1/connections/${started.connection.id}/reauthorize`, {
      method: "POST",
    });
    const second = requisitionIn(((await re.json()) as { authorization_url: string }).authorization_url);
    expect(second).not.toBe(first);
    await expect(adapter.requisition(first)).rejects.toMatchObject({ status: 404 });
    expect((await adapter.requisition(second)).id).toBe(second);
    const gone = await authed(tokens.access_token, `/api/v1/connections/${started.connection.id}`, {
      method: "DELETE",
    });
    expect(gone.status).toBe(204);
    await expect(adapter.requisition(second)).rejects.toMatchObject({ status: 404 });
  });
});
