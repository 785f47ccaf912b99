import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { connectSandbox } from "../support/connections";
import { seededSession } from "../support/seed";

import { attempt, queuedRun } from "../support/sync";

async function socket(token: string) {
  const res = await exports.default.fetch(
    new Request("https://x.test/api/v1/events", {
      headers: { Upgrade: "websocket", "Sec-WebSocket-Protocol": `ledgerlink.events, bearer.${token}` },
    }),
  );
  expect(res.status).toBe(101);
  const ws = res.webSocket as WebSocket;
  const events: { type: string; data: Record<string, unknown> }[] = [];
  ws.addEventListener("message", (e) => {
    events.push(JSON.parse(String(e.data)));
  });
  ws.accept();
  return { ws, events };
}

const until = async (f: () => boolean) => {
  for (let i = 0; i < 200 && !f(); i++) await new Promise((r) => setTimeout(r, 10));
};

describe("live sync events (GET /api/v1/events)", () => {
  it("tells the user's open sockets when a sync starts and succeeds", async () => {
    const { tokens } = await seededSession();
    const connection = await connectSandbox(tokens.access_token);
    const { ws, events } = await socket(tokens.access_token);
    const message = await queuedRun(connection.id);
    await attempt(message, 1);
    await until(() => events.length >= 2);
    expect(events.map((e) => e.type)).toEqual(["sync.started", "sync.succeeded"]);
    expect(events[1]?.data).toMatchObject({ connection_id: connection.id, sync_id: message.run_id });
    ws.close();
  });

  it("tells them when a connection needs re-authorization", async () => {
    const { tokens } = await seededSession();
    const connection = await connectSandbox(tokens.access_token, { scenario: "revoked" });
    const { ws, events } = await socket(tokens.access_token);
    await attempt(await queuedRun(connection.id), 1);
    await until(() => events.some((e) => e.type === "connection.reauth_required"));
    expect(events.map((e) => e.type)).toEqual(["sync.started", "sync.failed", "connection.reauth_required"]);
    expect(events[1]?.data).toMatchObject({ error: { code: "reauth_required" } });
    ws.close();
  });
});
