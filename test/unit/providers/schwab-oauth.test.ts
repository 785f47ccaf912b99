import { describe, expect, it } from "vitest";
import { createSchwabAdapter, SCHWAB_REFRESH_TOKEN_LIFETIME_MS } from "../../../src/providers/schwab";
import {
  applyRefresh,
  type ProviderError,
  ReauthRequiredError,
  TransientProviderError,
} from "../../../src/providers/types";
import {
  adapterFor,
  authorize,
  BASE_URL,
  CLIENT_ID,
  CLIENT_SECRET,
  connect,
  DAY,
  mountSandbox,
  pkcePair,
  REDIRECT_URI,
  rejection,
  T0,
} from "./support";

describe("Schwab adapter: authorization URL", () => {
  it("builds Schwab's authorize URL with PKCE S256 and scope=api", () => {
    const adapter = createSchwabAdapter({
      clientId: "app key",
      clientSecret: "s",
      fetch,
      timeouts: { connectMs: 1, totalMs: 1 },
    });
    const url = new URL(
      adapter.authorizationUrl({ state: "st&=1", codeChallenge: "c".repeat(43), redirectUri: REDIRECT_URI }),
    );
    expect(url.origin + url.pathname).toBe("https://api.schwabapi.com/v1/oauth/authorize");
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: "app key",
      redirect_uri: REDIRECT_URI,
      response_type: "code",
      state: "st&=1",
      code_challenge: "c".repeat(43),
      code_challenge_method: "S256",
      scope: "api",
    });
  });

  it("adds scenario only when given and tolerates a trailing slash in baseUrl", () => {
    const adapter = createSchwabAdapter({
      clientId: "k",
      clientSecret: "s",
      baseUrl: `${BASE_URL}/`,
      fetch,
      timeouts: { connectMs: 1, totalMs: 1 },
    });
    const url = new URL(
      adapter.authorizationUrl({ state: "s", codeChallenge: "c", redirectUri: REDIRECT_URI, scenario: "large" }),
    );
    expect(url.toString().startsWith(`${BASE_URL}/v1/oauth/authorize?`)).toBe(true);
    expect(url.searchParams.get("scenario")).toBe("large");
  });

  it("refuses to be built without client credentials", () => {
    expect(() =>
      createSchwabAdapter({ clientId: "", clientSecret: "s", fetch, timeouts: { connectMs: 1, totalMs: 1 } }),
    ).toThrow(RangeError);
  });
});

describe("Schwab adapter + sandbox: code flow with PKCE", () => {
  it("exchanges a code for tokens with Schwab's lifetimes", async () => {
    const sandbox = mountSandbox();
    const adapter = adapterFor(sandbox);
    const tokens = await connect(sandbox, adapter);
    expect(tokens.accessToken).toMatch(/^I0\./);
    expect(tokens.refreshToken).toMatch(/^R0\./);
    expect(tokens.accessTokenExpiresAt.getTime()).toBe(T0 + 1800 * 1000);
    expect(tokens.refreshTokenExpiresAt?.getTime()).toBe(T0 + SCHWAB_REFRESH_TOKEN_LIFETIME_MS);
    expect(tokens.scope).toBe("api");

    // The token request used HTTP Basic client auth and a form body.
    const tokenCall = sandbox.seen.find((s) => s.url.pathname.endsWith("/v1/oauth/token"));
    expect(tokenCall?.status).toBe(200);
  });

  it("redirects with code, state and Schwab's session parameter; the code is URL-encoded", async () => {
    const sandbox = mountSandbox();
    const adapter = adapterFor(sandbox);
    const { challenge } = await pkcePair();
    const { location, params } = await authorize(
      sandbox,
      adapter.authorizationUrl({ state: "xyz", codeChallenge: challenge, redirectUri: `${REDIRECT_URI}?keep=1` }),
    );
    expect(location.origin + location.pathname).toBe(REDIRECT_URI);
    expect(params.get("keep")).toBe("1");
    expect(params.get("state")).toBe("xyz");
    expect(params.get("session")).toMatch(/^[0-9a-f-]{36}$/);
    expect(params.get("code")).toMatch(/^C0\..+@$/);
    expect(location.search).toContain("%40");
  });

  it("refuses a wrong code_verifier, a reused code and a different redirect_uri", async () => {
    const sandbox = mountSandbox();
    const adapter = adapterFor(sandbox);
    const { verifier, challenge } = await pkcePair();
    const url = adapter.authorizationUrl({ state: "s", codeChallenge: challenge, redirectUri: REDIRECT_URI });
    const code = (await authorize(sandbox, url)).params.get("code") as string;

    const wrong = await rejection(
      adapter.exchangeCode({ code, codeVerifier: (await pkcePair()).verifier, redirectUri: REDIRECT_URI }),
    );
    expect(wrong).toBeInstanceOf(ReauthRequiredError);
    expect((wrong as ProviderError).detail).toMatch(/^invalid_grant/);

    const otherRedirect = await rejection(
      adapter.exchangeCode({ code, codeVerifier: verifier, redirectUri: "https://evil.test/cb" }),
    );
    expect((otherRedirect as ProviderError).detail).toBe("invalid_grant: redirect_uri mismatch");

    await adapter.exchangeCode({ code, codeVerifier: verifier, redirectUri: REDIRECT_URI });
    const reused = await rejection(adapter.exchangeCode({ code, codeVerifier: verifier, redirectUri: REDIRECT_URI }));
    expect((reused as ProviderError).detail).toBe("invalid_grant: authorization code already used");
  });

  it("refuses an expired code", async () => {
    const sandbox = mountSandbox({ codeTtlSeconds: 60 });
    const adapter = adapterFor(sandbox);
    const { verifier, challenge } = await pkcePair();
    const url = adapter.authorizationUrl({ state: "s", codeChallenge: challenge, redirectUri: REDIRECT_URI });
    const code = (await authorize(sandbox, url)).params.get("code") as string;
    sandbox.clock.advance(61_000);
    const err = await rejection(adapter.exchangeCode({ code, codeVerifier: verifier, redirectUri: REDIRECT_URI }));
    expect(err).toBeInstanceOf(ReauthRequiredError);
  });

  it("answers a wrong client secret with Schwab's 401 invalid_client", async () => {
    const sandbox = mountSandbox();
    const good = adapterFor(sandbox);
    const bad = adapterFor(sandbox, { clientSecret: "wrong" });
    const { verifier, challenge } = await pkcePair();
    const code = (
      await authorize(
        sandbox,
        good.authorizationUrl({ state: "s", codeChallenge: challenge, redirectUri: REDIRECT_URI }),
      )
    ).params.get("code") as string;
    const err = await rejection(bad.exchangeCode({ code, codeVerifier: verifier, redirectUri: REDIRECT_URI }));
    expect(err).toBeInstanceOf(ReauthRequiredError);
    expect((err as ProviderError).status).toBe(401);
    expect((err as ProviderError).detail).toBe("invalid_client: Unauthorized");
  });

  it("rejects authorize requests that break PKCE or OAuth rules", async () => {
    const sandbox = mountSandbox();
    const { challenge } = await pkcePair();
    const base = new URL(`${BASE_URL}/v1/oauth/authorize`);
    const good = {
      client_id: CLIENT_ID,
      redirect_uri: REDIRECT_URI,
      response_type: "code",
      state: "s",
      code_challenge: challenge,
      code_challenge_method: "S256",
    };
    const send = (params: Record<string, string | undefined>) => {
      const url = new URL(base);
      for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
      return sandbox.fetch(url.toString(), { redirect: "manual" });
    };
    const errorOf = async (params: Record<string, string | undefined>) => {
      const res = await send({ ...good, ...params });
      expect(res.status).toBe(302);
      const loc = new URL(res.headers.get("Location") as string);
      expect(loc.searchParams.get("state")).toBe("s");
      expect(loc.searchParams.has("code")).toBe(false);
      return loc.searchParams.get("error");
    };
    expect(await errorOf({ code_challenge: undefined })).toBe("invalid_request");
    expect(await errorOf({ code_challenge_method: "plain" })).toBe("invalid_request");
    expect(await errorOf({ code_challenge_method: undefined })).toBe("invalid_request");
    expect(await errorOf({ response_type: "token" })).toBe("unsupported_response_type");
    expect(await errorOf({ scenario: "nope" })).toBe("invalid_request");
    // No redirect at all for an unknown client or an unusable redirect URI (RFC 6749 §4.1.2.1).
    expect((await send({ ...good, client_id: undefined })).status).toBe(400);
    expect((await send({ ...good, client_id: "someone-else" })).status).toBe(400);
    expect((await send({ ...good, redirect_uri: "javascript:alert(1)" })).status).toBe(400);
  });

  it("requires HTTP Basic client authentication and a form body at the token endpoint", async () => {
    const sandbox = mountSandbox();
    const form = "grant_type=refresh_token&refresh_token=x";
    const noAuth = await sandbox.fetch(`${BASE_URL}/v1/oauth/token`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: form,
    });
    expect(noAuth.status).toBe(401);
    expect(await noAuth.json()).toEqual({ error: "invalid_client", error_description: "Unauthorized" });

    const json = await sandbox.fetch(`${BASE_URL}/v1/oauth/token`, {
      method: "POST",
      headers: { Authorization: `Basic ${btoa(`${CLIENT_ID}:${CLIENT_SECRET}`)}`, "Content-Type": "application/json" },
      body: "{}",
    });
    expect(json.status).toBe(400);
  });
});

describe("Schwab adapter + sandbox: refresh", () => {
  it("default: Schwab returns the same refresh token; its 7-day expiry is kept", async () => {
    const sandbox = mountSandbox();
    const adapter = adapterFor(sandbox);
    const tokens = await connect(sandbox, adapter);
    sandbox.clock.advance(3 * DAY);
    const result = await adapter.refresh(tokens.refreshToken);
    expect(result.refreshTokenOutcome).toBe("same");
    expect(result.refreshToken).toBe(tokens.refreshToken);
    expect(result.refreshTokenExpiresAt).toBeUndefined();
    expect(result.accessToken).not.toBe(tokens.accessToken);
    expect(result.accessTokenExpiresAt.getTime()).toBe(T0 + 3 * DAY + 1800 * 1000);

    const merged = applyRefresh(tokens, result);
    expect(merged.refreshTokenExpiresAt?.getTime()).toBe(T0 + 7 * DAY);
    expect(merged.accessToken).toBe(result.accessToken);
    // The new access token works.
    expect(await adapter.accounts(merged.accessToken)).toHaveLength(2);
  });

  it("rotating: every refresh returns a new refresh token, and the new one works", async () => {
    const sandbox = mountSandbox();
    const adapter = adapterFor(sandbox);
    const tokens = await connect(sandbox, adapter, { scenario: "rotating" });
    const first = await adapter.refresh(tokens.refreshToken);
    expect(first.refreshTokenOutcome).toBe("rotated");
    expect(first.refreshToken).not.toBe(tokens.refreshToken);
    const second = await adapter.refresh(first.refreshToken);
    expect(second.refreshTokenOutcome).toBe("rotated");
    expect(second.refreshToken).not.toBe(first.refreshToken);
    // Rotation does not extend Schwab's 7-day limit.
    expect(applyRefresh(tokens, second).refreshTokenExpiresAt).toEqual(tokens.refreshTokenExpiresAt);
  });

  it("absent: a response without refresh_token keeps the old token", async () => {
    const fetchStub: typeof fetch = async () =>
      Response.json({ access_token: "new-access", expires_in: 1800, token_type: "Bearer", scope: "api" });
    const adapter = createSchwabAdapter({
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      fetch: fetchStub,
      timeouts: { connectMs: 1000, totalMs: 1000 },
      now: () => new Date(T0),
    });
    const result = await adapter.refresh("old-refresh");
    expect(result).toMatchObject({
      refreshTokenOutcome: "absent",
      refreshToken: "old-refresh",
      accessToken: "new-access",
    });
    expect(result.accessTokenExpiresAt.getTime()).toBe(T0 + 1_800_000);
  });

  it("sends the refresh grant as Schwab documents it", async () => {
    let seen: Request | undefined;
    const fetchStub: typeof fetch = async (input, init) => {
      seen = new Request(input, init);
      return Response.json({ access_token: "a", refresh_token: "r@1", expires_in: 1800 });
    };
    const adapter = createSchwabAdapter({
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      fetch: fetchStub,
      timeouts: { connectMs: 1000, totalMs: 1000 },
    });
    await adapter.refresh("r@1");
    expect(seen?.method).toBe("POST");
    expect(seen?.url).toBe("https://api.schwabapi.com/v1/oauth/token");
    expect(seen?.headers.get("Authorization")).toBe(`Basic ${btoa(`${CLIENT_ID}:${CLIENT_SECRET}`)}`);
    expect(seen?.headers.get("Content-Type")).toBe("application/x-www-form-urlencoded");
    expect(new TextDecoder().decode(await seen?.arrayBuffer())).toBe("grant_type=refresh_token&refresh_token=r%401");
  });

  it("revoked: Schwab's nested 400 becomes ReauthRequiredError without leaking the token", async () => {
    const sandbox = mountSandbox();
    const adapter = adapterFor(sandbox);
    const tokens = await connect(sandbox, adapter, { scenario: "revoked" });
    const err = await rejection(adapter.refresh(tokens.refreshToken));
    expect(err).toBeInstanceOf(ReauthRequiredError);
    expect((err as ProviderError).status).toBe(400);
    expect((err as ProviderError).detail).toBe("unsupported_token_type (refresh_token_authentication_error)");
    expect(err.message).not.toContain(tokens.refreshToken);
    expect(JSON.stringify((err as ProviderError).toLog())).not.toContain(tokens.refreshToken);
  });

  it("a refresh token dies 7 days after the first login", async () => {
    const sandbox = mountSandbox();
    const adapter = adapterFor(sandbox);
    const tokens = await connect(sandbox, adapter);
    sandbox.clock.advance(7 * DAY - 1000);
    await adapter.refresh(tokens.refreshToken);
    sandbox.clock.advance(1000);
    expect(await rejection(adapter.refresh(tokens.refreshToken))).toBeInstanceOf(ReauthRequiredError);
  });

  it("an empty or forged refresh token is refused", async () => {
    const sandbox = mountSandbox();
    const adapter = adapterFor(sandbox);
    const tokens = await connect(sandbox, adapter);
    expect((await rejection(adapter.refresh(""))) as ProviderError).toMatchObject({
      detail: "invalid_grant: refresh_token is required",
    });
    const forged = tokens.refreshToken.replace(/\.(.)/, (_m, ch: string) => `.${ch === "e" ? "f" : "e"}`);
    expect(await rejection(adapter.refresh(forged))).toBeInstanceOf(ReauthRequiredError);
  });

  it("an expired access token is refused (401) until refreshed", async () => {
    const sandbox = mountSandbox();
    const adapter = adapterFor(sandbox);
    const tokens = await connect(sandbox, adapter);
    sandbox.clock.advance(1800 * 1000);
    const err = await rejection(adapter.accounts(tokens.accessToken));
    expect(err).toBeInstanceOf(ReauthRequiredError);
    expect((err as ProviderError).detail).toBe("401 Unauthorized Access token is invalid or expired");
    const refreshed = await adapter.refresh(tokens.refreshToken);
    expect(await adapter.accounts(refreshed.accessToken)).toHaveLength(2);
  });

  it("maps a token endpoint 5xx or HTML page to a provider error, not a crash", async () => {
    const html: typeof fetch = async () =>
      new Response("<html><title>Access Denied</title></html>", {
        status: 403,
        headers: { "Content-Type": "text/html" },
      });
    const adapter = createSchwabAdapter({
      clientId: "k",
      clientSecret: "s",
      fetch: html,
      timeouts: { connectMs: 1000, totalMs: 1000 },
    });
    const err = await rejection(adapter.refresh("r"));
    expect((err as ProviderError).detail).toBe("html page: Access Denied");

    const down: typeof fetch = async () => new Response("oops", { status: 503 });
    const adapter2 = createSchwabAdapter({
      clientId: "k",
      clientSecret: "s",
      fetch: down,
      timeouts: { connectMs: 1000, totalMs: 1000 },
    });
    expect(await rejection(adapter2.refresh("r"))).toBeInstanceOf(TransientProviderError);
  });
});
