/**
 * Sandbox OAuth endpoints, Schwab's surface: `GET /authorize` consents at once and redirects with
 * `code` and `state`; `POST /token` takes HTTP Basic client credentials and a form body (RFC 6749
 * §2.3.1, §4.1.3, §6) and checks PKCE S256 (RFC 7636 §4.6).
 */
import { Hono } from "hono";
import type { SandboxContext } from "./context";
import { isScenario } from "./scenarios";
import { b64url, type Grant, randomId, s256 } from "./tokens";

const REFRESH_LIFETIME_MS = 7 * 86_400_000;
// RFC 7636 §4.1: verifier = 43..128 unreserved characters; an S256 challenge is 43 base64url.
const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;
const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
const LOGIN = /^[A-Za-z0-9._@+-]{1,64}$/;

const oauthError = (error: string, description: string) => ({ error, error_description: description });

/** Schwab's answer to an expired or invalidated refresh token: the real reason nested as a JSON string. */
export function refreshRejectedBody() {
  const inner = JSON.stringify({
    error_description: "Exception while authenticating refresh token [refresh_token_authentication_error]",
    error: "refresh_token_authentication_error",
  });
  return oauthError("unsupported_token_type", `400 Bad Request: "${inner}"`);
}

function parseBasic(header: string | undefined): { id: string; secret: string } | null {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header ?? "");
  if (!m) return null;
  let decoded: string;
  try {
    decoded = atob(m[1] as string);
  } catch {
    return null;
  }
  const colon = decoded.indexOf(":");
  if (colon <= 0 || colon === decoded.length - 1) return null;
  return { id: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

function fakeIdToken(grant: Grant, now: number): string {
  // Schwab sends an id_token JWT; ours is shaped like one but signed with nothing anyone checks.
  const enc = (v: unknown) => b64url(new TextEncoder().encode(JSON.stringify(v)));
  const claims = { sub: grant.login, aud: grant.clientId, iat: Math.floor(now / 1000), iss: "ledgerlink-sandbox" };
  return `${enc({ alg: "none", typ: "JWT" })}.${enc(claims)}.`;
}

/** The `/v1/oauth` routes. */
export function oauthRoutes(ctx: SandboxContext) {
  const app = new Hono();

  app.get("/authorize", async (c) => {
    const q = c.req.query();
    if (!q.client_id || (ctx.clientId !== null && q.client_id !== ctx.clientId)) {
      // RFC 6749 §4.1.2.1: never redirect for a bad client or redirect URI.
      return c.json(oauthError("invalid_client", "unknown client_id"), 400);
    }
    let redirect: URL;
    try {
      redirect = new URL(q.redirect_uri ?? "");
      if (redirect.protocol !== "https:" && redirect.protocol !== "http:") throw new Error("scheme");
    } catch {
      return c.json(oauthError("invalid_request", "redirect_uri must be an absolute http(s) URL"), 400);
    }
    const back = (params: Record<string, string>) => {
      for (const [k, v] of Object.entries(params)) redirect.searchParams.set(k, v);
      if (q.state !== undefined) redirect.searchParams.set("state", q.state);
      return c.redirect(redirect.toString(), 302);
    };
    const fail = (error: string, description: string) => back(oauthError(error, description));

    if (q.response_type !== "code") return fail("unsupported_response_type", "response_type must be code");
    if (!q.code_challenge || !CHALLENGE.test(q.code_challenge)) {
      return fail("invalid_request", "code_challenge is required (BASE64URL of a SHA-256 digest)");
    }
    if (q.code_challenge_method !== "S256") return fail("invalid_request", "code_challenge_method must be S256");
    const scenario = q.scenario ?? "default";
    if (!isScenario(scenario)) return fail("invalid_request", "unknown scenario");
    const login = q.login ?? "default";
    if (!LOGIN.test(login)) return fail("invalid_request", "login must be 1-64 characters of [A-Za-z0-9._@+-]");

    const now = ctx.now();
    const code = await ctx.signer.sign({
      kind: "code",
      jti: randomId(),
      exp: now + ctx.codeTtlSeconds * 1000,
      challenge: q.code_challenge,
      redirectUri: q.redirect_uri as string,
      scenario,
      login,
      loginAt: now,
      clientId: q.client_id,
    });
    // Schwab adds a `session` parameter next to the code.
    return back({ code, session: crypto.randomUUID() });
  });

  app.post("/token", async (c) => {
    const client = parseBasic(c.req.header("Authorization"));
    const known =
      client !== null &&
      (ctx.clientId === null || client.id === ctx.clientId) &&
      (ctx.clientSecret === null || client.secret === ctx.clientSecret);
    if (!client || !known) {
      return c.json(oauthError("invalid_client", "Unauthorized"), 401, { "WWW-Authenticate": 'Basic realm="sandbox"' });
    }
    if (!(c.req.header("Content-Type") ?? "").toLowerCase().startsWith("application/x-www-form-urlencoded")) {
      return c.json(oauthError("invalid_request", "body must be application/x-www-form-urlencoded"), 400);
    }
    // Decode the bytes ourselves: workerd warns when .text() reads a form-encoded body.
    const form = new URLSearchParams(new TextDecoder().decode(await c.req.arrayBuffer()));
    const now = ctx.now();
    // RFC 6749 §5.1: token responses are never cached.
    c.header("Cache-Control", "no-store");
    c.header("Pragma", "no-cache");

    const issue = async (grant: Grant, refreshToken: string | null) => {
      const base: Grant = {
        scenario: grant.scenario,
        login: grant.login,
        loginAt: grant.loginAt,
        clientId: grant.clientId,
      };
      const accessToken = await ctx.signer.sign({
        kind: "access",
        ...base,
        jti: randomId(),
        iat: now,
        exp: now + ctx.accessTokenTtlSeconds * 1000,
      });
      const refresh = refreshToken ?? (await ctx.signer.sign({ kind: "refresh", ...base, jti: randomId() }));
      return c.json({
        expires_in: ctx.accessTokenTtlSeconds,
        token_type: "Bearer",
        scope: "api",
        refresh_token: refresh,
        access_token: accessToken,
        id_token: fakeIdToken(base, now),
      });
    };

    const grantType = form.get("grant_type");
    if (grantType === "authorization_code") {
      const claims = await ctx.signer.verify(form.get("code") ?? "", "code");
      if (!claims || claims.exp <= now)
        return c.json(oauthError("invalid_grant", "authorization code is invalid or expired"), 400);
      if (claims.clientId !== client.id)
        return c.json(oauthError("invalid_grant", "code was issued to another client"), 400);
      // RFC 6749 §4.1.3: redirect_uri must be identical to the one in the authorization request.
      if (form.get("redirect_uri") !== claims.redirectUri)
        return c.json(oauthError("invalid_grant", "redirect_uri mismatch"), 400);
      const verifier = form.get("code_verifier");
      if (!verifier || !VERIFIER.test(verifier)) {
        return c.json(oauthError("invalid_request", "code_verifier must be 43-128 unreserved characters"), 400);
      }
      if ((await s256(verifier)) !== claims.challenge) {
        return c.json(oauthError("invalid_grant", "code_verifier does not match the code_challenge"), 400);
      }
      if (ctx.usedCodes.get(claims.jti))
        return c.json(oauthError("invalid_grant", "authorization code already used"), 400);
      ctx.usedCodes.set(claims.jti, true);
      return issue(claims, null);
    }

    if (grantType === "refresh_token") {
      const token = form.get("refresh_token") ?? "";
      if (token === "") return c.json(oauthError("invalid_grant", "refresh_token is required"), 400);
      const claims = await ctx.signer.verify(token, "refresh");
      const dead =
        !claims ||
        claims.clientId !== client.id ||
        claims.scenario === "revoked" ||
        now >= claims.loginAt + REFRESH_LIFETIME_MS;
      if (!claims || dead) return c.json(refreshRejectedBody(), 400);
      // `rotating` returns a new refresh token each time; Schwab otherwise returns the same string.
      return issue(claims, claims.scenario === "rotating" ? null : token);
    }

    return c.json(oauthError("unsupported_grant_type", "grant_type must be authorization_code or refresh_token"), 400);
  });

  return app;
}
