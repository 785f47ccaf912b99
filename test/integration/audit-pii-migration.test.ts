import { applyD1Migrations, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { AUDIT_LOG } from "../support/audit";

// Migration 0011 on a directory that already has audit history: nothing is lost, the personal
// fields of live users move to audit_pii, those of users already deleted are erased, and the
// trail is append-only again afterwards.
describe("migration 0011 (audit_pii) upgrades a directory in place", () => {
  it("moves, erases and keeps exactly what it should", async () => {
    const db = env.MIGRATION_DB;
    const cut = env.TEST_MIGRATIONS.findIndex((m) => m.name.startsWith("0011_"));
    expect(cut).toBeGreaterThan(0);
    await applyD1Migrations(db, env.TEST_MIGRATIONS.slice(0, cut));

    await db
      .prepare(
        "INSERT INTO users (id, email, name, password_hash, created_at, updated_at) VALUES ('usr_live', 'live@example.com', 'Live', 'x', 1, 1)",
      )
      .run();
    const event = (id: string, user: string | null, ip: string, actor: string | null = null) =>
      db
        .prepare(
          "INSERT INTO audit_events (id, occurred_at, action, outcome, user_id, actor_id, ip_address, user_agent, location) VALUES (?, 1, 'auth.login', 'success', ?, ?, ?, 'UA/1', '{\"country\":\"NL\",\"region\":null,\"city\":null}')",
        )
        .bind(id, user, actor, ip);
    await db.batch([
      event("evt_live", "usr_live", "192.0.2.1"),
      event("evt_gone", "usr_deleted_before", "192.0.2.2"),
      event("evt_anon", null, "192.0.2.3"),
      // An administrator (still here) acted on a user already deleted: the IP is the admin's.
      event("evt_admin", "usr_deleted_before", "192.0.2.4", "usr_live"),
    ]);

    // A lockout event from before 0012, with the client's address copied into details.
    await db
      .prepare(
        "INSERT INTO audit_events (id, occurred_at, action, outcome, user_id, details) VALUES ('evt_lock', 1, 'auth.lockout', 'success', 'usr_live', '{\"until\":\"x\",\"client\":\"192.0.2.9\"}')",
      )
      .run();

    await applyD1Migrations(db, env.TEST_MIGRATIONS);
    expect(await db.prepare("SELECT details FROM audit_events WHERE id = 'evt_lock'").first()).toEqual({
      details: '{"until":"x"}',
    });

    const rows = await db
      .prepare(
        `SELECT id, user_id, ip_address, user_agent, location FROM ${AUDIT_LOG} WHERE action = 'auth.login' ORDER BY id`,
      )
      .all<Record<string, unknown>>();
    expect(rows.results).toEqual([
      {
        id: "evt_admin",
        user_id: "usr_deleted_before",
        ip_address: "192.0.2.4",
        user_agent: "UA/1",
        location: expect.any(String),
      },
      { id: "evt_anon", user_id: null, ip_address: "192.0.2.3", user_agent: "UA/1", location: expect.any(String) },
      { id: "evt_gone", user_id: "usr_deleted_before", ip_address: null, user_agent: null, location: null },
      {
        id: "evt_live",
        user_id: "usr_live",
        ip_address: "192.0.2.1",
        user_agent: "UA/1",
        location: expect.any(String),
      },
    ]);
    const raw = await db
      .prepare("SELECT ip_address FROM audit_events WHERE user_id IS NOT NULL AND action = 'auth.login'")
      .all();
    expect(raw.results).toEqual([{ ip_address: null }, { ip_address: null }, { ip_address: null }]);

    // Deleting the live user now erases its personal fields too, as actor and as user; the events stay.
    await db.prepare("DELETE FROM users WHERE id = 'usr_live'").run();
    const left = await db.prepare(`SELECT id, ip_address FROM ${AUDIT_LOG} WHERE ip_address IS NOT NULL`).all();
    expect(left.results).toEqual([{ id: "evt_anon", ip_address: "192.0.2.3" }]);
    expect((await db.prepare("SELECT count(*) AS n FROM audit_events").first())?.n).toBe(5);
    await expect(db.prepare("UPDATE audit_events SET action = 'x'").run()).rejects.toThrow(/append-only/);
    await expect(db.prepare("DELETE FROM audit_events").run()).rejects.toThrow(/append-only/);
  });
});
