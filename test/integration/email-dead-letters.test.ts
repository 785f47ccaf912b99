import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { loadConfig } from "../../src/config";
import { EMAIL_QUEUES, type EmailQueueMessage } from "../../src/email/messages";
import { sealEmail } from "../../src/email/seal";
import { emails } from "../../src/email/templates";
import { replayEmailDeadLetter } from "../../src/services/email/dead-letters";
import { loggedInAdmin } from "../support/admin";
import { HOURLY_CRON, runCron, testDeps } from "../support/deps";
import { deadLetterOf, deadLettersFor, failingQueue, pendingFor, recipientHashOf } from "../support/email";
import { problem } from "../support/http";
import { authed, outbox, outboxAtLeast } from "../support/identity";
import { seededSession } from "../support/seed";
import { attempt, runSyncCron } from "../support/sync";

// Email dead letters for administrators (docs/contract.md "Administration"), as for syncs: listed
// newest first, replayed once as a new email, audited.

interface EmailDeadLetter {
  id: string;
  email_id: string;
  kind: string;
  recipient_hash: string;
  attempts: number;
  error: { code: string; message: string };
  requested_at: string;
  dead_lettered_at: string;
  replayable: boolean;
  replayed_at: string | null;
  replay_email_id: string | null;
  replayed_by: string | null;
}

const address = () => `dlq-${crypto.randomUUID()}@example.com`;
const BASE = "/api/v1/admin/email/dead-letters";

/** An email dead-lettered the way the consumer forwards one (through the real dead-letter queue's handler). */
async function deadLettered(to: string, error = { code: "email_refused", message: "email provider answered 422" }) {
  const config = await loadConfig(env);
  const link = `https://app.ledgerlink.test/reset-password?token=${crypto.randomUUID()}`;
  const message = await sealEmail(config.encryption.keyring, emails.passwordReset(to, null, link), new Date());
  expect(await attempt({ ...message, error, attempts: 1 }, 1, env, EMAIL_QUEUES.deadLetters)).toEqual({
    action: "ack",
  });
  return { message, link, letter: await deadLetterOf(to) };
}

const list = async (token: string, q = "") => {
  const res = await authed(token, `${BASE}${q}`);
  expect(res.status).toBe(200);
  return (await res.json()) as { dead_letters: EmailDeadLetter[]; next_cursor: string | null };
};

const replay = (token: string, id: string) => authed(token, `${BASE}/${id}/replay`, { method: "POST" });

const audits = async (deadLetterId: string) =>
  (
    await env.DB.prepare(
      "SELECT * FROM audit_events WHERE action = 'email.replayed' AND json_extract(details, '$.dead_letter_id') = ?",
    )
      .bind(deadLetterId)
      .all<{ actor_id: string; user_id: string | null; details: string }>()
  ).results;

describe("email dead letters (admin)", () => {
  it("an undelivered email is recorded once, listed without its address, and replayed once", {
    timeout: 30_000,
  }, async () => {
    const admin = await loggedInAdmin();
    const to = address();
    const { message, link, letter } = await deadLettered(to);
    // The dead-letter queue delivers at least once: a second delivery records nothing new.
    await attempt({ ...message, error: { code: "x", message: "y" }, attempts: 1 }, 1, env, EMAIL_QUEUES.deadLetters);
    expect(await deadLettersFor(to)).toHaveLength(1);

    const open = await list(admin.tokens.access_token);
    const shown = open.dead_letters.find((d) => d.id === letter.id);
    expect(shown).toMatchObject({
      email_id: message.id,
      kind: "password_reset",
      recipient_hash: await recipientHashOf(to),
      attempts: 1,
      error: { code: "email_refused", message: "email provider answered 422" },
      replayable: true,
      replayed_at: null,
      replay_email_id: null,
    });
    expect(JSON.stringify(open)).not.toContain(to);
    expect(JSON.stringify(open)).not.toContain("token=");

    // The replay is a new email through the queue: the development outbox gets it, once.
    const res = await replay(admin.tokens.access_token, letter.id);
    expect(res.status).toBe(202);
    const body = (await res.json()) as { email: { id: string; status: string }; dead_letter: EmailDeadLetter };
    expect(body.email).toEqual({ id: expect.stringMatching(/^eml_/), status: "queued" });
    expect(body.email.id).not.toBe(message.id);
    expect(body.dead_letter).toMatchObject({
      id: letter.id,
      replay_email_id: body.email.id,
      replayed_by: admin.tokens.user.id,
      replayable: false,
    });
    const [sent] = await outboxAtLeast(to, 1);
    expect(sent?.text).toContain(link);
    const [audit] = await audits(letter.id);
    expect(audit).toMatchObject({ actor_id: admin.tokens.user.id, user_id: null });
    expect(JSON.parse(audit?.details ?? "{}")).toEqual({
      dead_letter_id: letter.id,
      email_id: message.id,
      replay_email_id: body.email.id,
      kind: "password_reset",
    });
    expect(audit?.details).not.toContain(to);

    const twice = await replay(admin.tokens.access_token, letter.id);
    expect(twice.status).toBe(409);
    const refused = await problem(twice);
    expect(refused.code).toBe("already_replayed");
    expect(refused.replay_email_id).toBe(body.email.id);
    expect((await list(admin.tokens.access_token, "?state=replayed")).dead_letters.map((d) => d.id)).toContain(
      letter.id,
    );
    expect((await list(admin.tokens.access_token)).dead_letters.map((d) => d.id)).not.toContain(letter.id);
    await new Promise((r) => setTimeout(r, 300));
    expect(await outbox(to)).toHaveLength(1);
    expect(await audits(letter.id)).toHaveLength(1);
  });

  it("two replays racing: exactly one wins, with one email and one audit row", { timeout: 30_000 }, async () => {
    const admin = await loggedInAdmin();
    const to = address();
    const { letter } = await deadLettered(to);
    const answers = await Promise.all([
      replay(admin.tokens.access_token, letter.id),
      replay(admin.tokens.access_token, letter.id),
      replay(admin.tokens.access_token, letter.id),
    ]);
    expect(answers.map((r) => r.status).sort()).toEqual([202, 409, 409]);
    // The database itself refuses a second mark (migration 0015's trigger), whatever the timing.
    await expect(
      env.DB.prepare("UPDATE email_dead_letters SET replayed_at = ? WHERE id = ?").bind(Date.now(), letter.id).run(),
    ).rejects.toThrow(/already replayed/);
    await outboxAtLeast(to, 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(await outbox(to)).toHaveLength(1);
    expect(await audits(letter.id)).toHaveLength(1);
  });

  it("a replay during a queue outage is kept and sent by the 5-minute cron", { timeout: 30_000 }, async () => {
    const admin = await loggedInAdmin();
    const to = address();
    const { letter } = await deadLettered(to);
    const outage = failingQueue();
    const deps = await testDeps({ emailQueue: outage.queue, sleep: async () => {} });
    const meta = {
      requestId: "req-test",
      traceId: "0af7651916cd43dd8448eb211c80319c",
      method: "POST",
      path: `${BASE}/${letter.id}/replay`,
      ip: null,
      clientKey: "10.0.0.1",
      userAgent: null,
      location: null,
    };
    const result = await replayEmailDeadLetter(deps, meta, admin.tokens.user.id, letter.id);
    expect(result.email.status).toBe("pending");
    expect(await pendingFor(to)).toHaveLength(1);
    await runSyncCron();
    await outboxAtLeast(to, 1);
    expect(await pendingFor(to)).toEqual([]);
  });

  it("records a message Queues dead-lettered itself (a crashing consumer)", async () => {
    const to = address();
    const config = await loadConfig(env);
    const message: EmailQueueMessage = await sealEmail(
      config.encryption.keyring,
      emails.passwordChanged(to, null),
      new Date(),
    );
    expect(await attempt(message, 1, env, EMAIL_QUEUES.deadLetters)).toEqual({ action: "ack" });
    expect(await deadLetterOf(to)).toMatchObject({
      error_code: "email_crashed",
      attempts: 11,
      kind: "security_notice",
    });
  });

  it("cannot be replayed once its sealed message is purged (7 days)", { timeout: 30_000 }, async () => {
    const admin = await loggedInAdmin();
    const to = address();
    const { letter } = await deadLettered(to);
    await env.DB.prepare("UPDATE email_dead_letters SET dead_lettered_at = ? WHERE id = ?")
      .bind(Date.now() - 8 * 86_400_000, letter.id)
      .run();
    await runCron(HOURLY_CRON);
    await vi.waitFor(async () => expect((await deadLettersFor(to))[0]?.sealed).toBeNull(), { timeout: 5000 });
    expect(
      (await list(admin.tokens.access_token, "?state=all&limit=100")).dead_letters.find((d) => d.id === letter.id),
    ).toMatchObject({ replayable: false, replayed_at: null });
    const res = await replay(admin.tokens.access_token, letter.id);
    expect(res.status).toBe(409);
    expect((await problem(res)).code).toBe("dead_letter_expired");
  });

  it("is for administrators only; unknown ids are 404; bad queries 422; pages follow the cursor", async () => {
    const admin = await loggedInAdmin();
    const { tokens } = await seededSession();
    expect((await authed(tokens.access_token, BASE)).status).toBe(403);
    expect((await replay(tokens.access_token, "edl_x")).status).toBe(403);
    expect((await replay(admin.tokens.access_token, "edl_x")).status).toBe(404);
    for (const q of ["?state=bad", "?limit=0", "?limit=101", "?cursor=%%%"]) {
      expect((await authed(admin.tokens.access_token, `${BASE}${q}`)).status, q).toBe(422);
    }
    await deadLettered(address());
    await deadLettered(address());
    const first = await list(admin.tokens.access_token, "?state=all&limit=1");
    expect(first.dead_letters).toHaveLength(1);
    expect(first.next_cursor).not.toBeNull();
    const second = await list(admin.tokens.access_token, `?state=all&limit=1&cursor=${first.next_cursor}`);
    expect(second.dead_letters[0]?.id).not.toBe(first.dead_letters[0]?.id);
    expect(Date.parse(second.dead_letters[0]?.dead_lettered_at ?? "")).toBeLessThanOrEqual(
      Date.parse(first.dead_letters[0]?.dead_lettered_at ?? ""),
    );
  });
});
