/**
 * A bank consent completes only with the browser that came back from the bank (outsider review):
 * its initiator knows the state, and before the fix GoCardless's redirect carried only that state
 * (`ref`) and the completion ignored `code`, so an attacker could send their bank link to a victim
 * and take the victim's accounts once they consented. The bank's reference now carries a proof
 * after the state, which only that redirect hands back as `code`.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../src/crypto/random";
import { consumeOAuthState, findOAuthState, unspendOAuthState } from "../../src/db/oauth-states";
import { callbackPost } from "../support/connections";
import { testDeps } from "../support/deps";
import { call, problem } from "../support/http";
import { authed } from "../support/identity";
import { seededSession } from "../support/seed";

describe("a bank consent someone else gave cannot be completed by the link's initiator", () => {
  it("without the hand-off of the returning browser: 400, the state kept for that browser", async () => {
    const attacker = await seededSession();
    const started = (await (
      await authed(attacker.tokens.access_token, "/api/v1/connections", {
        method: "POST",
        json: { provider: "sandbox_gocardless", institution_id: "SANDBOXFINANCE_SFIN0000" },
      })
    ).json()) as { connection: { id: string }; state: string; authorization_url: string };
    // The victim consents at the bank; their browser comes back to our callback (the attacker
    // never sees that redirect).
    const url = new URL(started.authorization_url);
    const back = (await call(url.pathname + url.search, { redirect: "manual" })).headers.get("Location") ?? "";
    // The attacker completes with what they know: the state, and any code.
    for (const code of ["consent", "anything", started.state]) {
      const res = await callbackPost(attacker.tokens.access_token, { state: started.state, code });
      expect(res.status, code).toBe(400);
      expect((await problem(res)).code).toBe("authorization_failed");
    }
    const view = await authed(attacker.tokens.access_token, `/api/v1/connections/${started.connection.id}`);
    expect(((await view.json()) as { status: string }).status).toBe("pending");
    // The browser that came back completes it (the app that holds that browser's hand-off).
    const backUrl = new URL(back);
    const handOff = (await (
      await call(backUrl.pathname + backUrl.search, { headers: { Accept: "application/json" } })
    ).json()) as { state: string; code: string };
    expect(handOff.state).toBe(started.state);
    expect((await callbackPost(attacker.tokens.access_token, handOff)).status).toBe(200);
  });
});

describe("a state given back after an early completion", () => {
  it("does not come back when a reauthorization began while it was spent", async () => {
    const { tokens } = await seededSession();
    const started = (await (
      await authed(tokens.access_token, "/api/v1/connections", {
        method: "POST",
        json: { provider: "sandbox_gocardless", institution_id: "SANDBOXFINANCE_SFIN0000" },
      })
    ).json()) as { connection: { id: string }; state: string };
    const deps = await testDeps();
    const hash = await sha256Hex(started.state);
    // An early completion has spent it and not yet given it back...
    expect(await consumeOAuthState(deps.db, hash, new Date())).toBeTruthy();
    // ...when a reauthorization starts a newer flow (it can only expire unspent states)...
    await new Promise((r) => setTimeout(r, 5));
    const re = await authed(tokens.access_token, `/api/v1/connections/${started.connection.id}/reauthorize`, {
      method: "POST",
    });
    expect(re.status).toBe(200);
    // ...so giving it back leaves it spent: only the newest flow can complete.
    await unspendOAuthState(deps.db, hash);
    expect((await findOAuthState(deps.db, hash))?.usedAt).not.toBeNull();
  });
});

describe("a connect whose account is erased meanwhile", () => {
  it("answers 401 session_revoked, never a 500", async () => {
    const { tokens } = await seededSession();
    const made = await authed(tokens.access_token, "/api/v1/dev/sandbox/simplefin/setup-token", { method: "POST" });
    const { setup_token } = (await made.json()) as { setup_token: string };
    // The erasure's directory part lands while the request talks to the bridge (its home part,
    // which would refuse the token, has not reached this request's check yet).
    const sub = JSON.parse(atob((tokens.access_token.split(".")[1] ?? "").replace(/-/g, "+").replace(/_/g, "/"))) as {
      sub: string;
    };
    await env.DB.prepare("DELETE FROM users WHERE id = ?").bind(sub.sub).run();
    const res = await authed(tokens.access_token, "/api/v1/connections", {
      method: "POST",
      json: { provider: "sandbox_simplefin", setup_token },
    });
    expect(res.status).toBe(401);
    expect((await problem(res)).code).toBe("session_revoked");
  });
});
