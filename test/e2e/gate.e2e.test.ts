import { describe, expect, inject, it } from "vitest";
import { waitForToken } from "./support";

const base = inject("baseUrl");
const PASSWORD = "Tr1cky-Bison-42!";
let n = 0;

const post = (path: string, json: unknown, headers: Record<string, string> = {}) =>
  fetch(base + path, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: JSON.stringify(json),
  });

async function loggedIn(ip: string) {
  const email = `gate.${Date.now().toString(36)}.${++n}@example.com`;
  await post("/api/v1/auth/register", { email, password: PASSWORD, name: "Gate" }, { "CF-Connecting-IP": ip });
  const token = await waitForToken(base, email, /confirm/i);
  await post("/api/v1/auth/verify-email", { token }, { "CF-Connecting-IP": ip });
  const res = await post("/api/v1/auth/login", { email, password: PASSWORD }, { "CF-Connecting-IP": ip });
  return (await res.json()) as { access_token: string; refresh_token: string; session_id: string };
}

describe("the Gate over HTTP (wrangler dev)", () => {
  it("a parallel burst of 6 logins from one IP lets exactly 5 through; another IP is separate", async () => {
    const burst = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        post(
          "/api/v1/auth/login",
          { email: `nobody${i}@example.com`, password: PASSWORD },
          { "CF-Connecting-IP": "203.0.113.200" },
        ),
      ),
    );
    const limited = burst.filter((r) => r.status === 429);
    expect(limited).toHaveLength(1);
    expect(limited[0]?.headers.get("retry-after")).toMatch(/^\d+$/);
    const other = await post(
      "/api/v1/auth/login",
      { email: "x@example.com", password: PASSWORD },
      { "CF-Connecting-IP": "203.0.113.201" },
    );
    expect(other.status).toBe(401);
  });

  it("revoking a session from another device takes effect on the very next request", async () => {
    const a = await loggedIn("203.0.113.210");
    const me = (t: string) => fetch(`${base}/api/v1/auth/me`, { headers: { Authorization: `Bearer ${t}` } });
    expect((await me(a.access_token)).status).toBe(200);
    const list = (await (
      await fetch(`${base}/api/v1/auth/sessions`, { headers: { Authorization: `Bearer ${a.access_token}` } })
    ).json()) as { sessions: { id: string; current: boolean }[] };
    expect(list.sessions.find((s) => s.current)?.id).toBe(a.session_id);
    const all = await fetch(`${base}/api/v1/auth/sessions/all`, {
      method: "DELETE",
      headers: { Authorization: `Bearer ${a.access_token}` },
    });
    expect(await all.json()).toEqual({ revoked: 1 });
    const after = await me(a.access_token);
    expect(after.status).toBe(401);
    expect(((await after.json()) as { code: string }).code).toBe("session_revoked");
  });
});
