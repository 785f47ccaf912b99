import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { liveEvent } from "../../src/home/events";
import { testDeps } from "../support/deps";
import { problem } from "../support/http";
import { authed, login, type Tokens } from "../support/identity";
import { seededSession } from "../support/seed";

async function open(headers: Record<string, string>) {
  const res = await exports.default.fetch(
    new Request("https://x.test/api/v1/events", { headers: { Upgrade: "websocket", ...headers } }),
  );
  return res;
}

function collect(ws: WebSocket) {
  const messages: string[] = [];
  const closed = new Promise<number>((resolve) => ws.addEventListener("close", (e) => resolve(e.code)));
  ws.addEventListener("message", (e) => {
    messages.push(String(e.data));
  });
  ws.accept();
  return { messages, closed };
}

const until = async (f: () => boolean) => {
  for (let i = 0; i < 100 && !f(); i++) await new Promise((r) => setTimeout(r, 10));
};

describe("GET /api/v1/events", () => {
  it("refuses without a token (401) and without an upgrade (426)", async () => {
    expect((await open({})).status).toBe(401);
    const { tokens } = await seededSession("ws-plain");
    const res = await authed(tokens.access_token, "/api/v1/events");
    expect(res.status).toBe(426);
    expect((await problem(res)).code).toBe("upgrade_required");
  });

  it("streams published events, answers ping, and tells a revoked session before closing it", async () => {
    const { email, tokens } = await seededSession("ws");
    // A browser offers the token as a subprotocol.
    const res = await open({ "Sec-WebSocket-Protocol": `ledgerlink.events, bearer.${tokens.access_token}` });
    expect(res.status).toBe(101);
    // The upgrade is an API answer like any other (docs/contract.md "Conventions").
    expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(res.headers.get("Strict-Transport-Security")).toContain("max-age=63072000");
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    expect(res.headers.get("X-Request-Id")).toBeTruthy();
    const ws = res.webSocket as WebSocket;
    const { messages, closed } = collect(ws);

    await (await testDeps()).homes.publish(tokens.user.id, liveEvent("sync.succeeded", { connection_id: "con_1" }));
    ws.send("ping");
    await until(() => messages.length >= 2);
    expect(JSON.parse(messages[0] as string)).toMatchObject({
      type: "sync.succeeded",
      data: { connection_id: "con_1" },
    });
    expect(messages[1]).toBe("pong");

    // Revoking the session from another device reaches the open socket at once.
    const other = (await (await login(email)).json()) as Tokens;
    await authed(other.access_token, `/api/v1/auth/sessions/${tokens.session_id}`, { method: "DELETE" });
    expect(await closed).toBe(4001);
    expect(JSON.parse(messages.at(-1) as string)).toMatchObject({
      type: "session.revoked",
      data: { session_id: tokens.session_id },
    });
  });
});
