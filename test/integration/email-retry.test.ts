import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { loadConfig } from "../../src/config";
import { EMAIL_QUEUES, type EmailDeadLetterMessage, type EmailQueueMessage } from "../../src/email/messages";
import { QUEUE_SEND_WAITS_MS } from "../../src/email/queue";
import { EMAILS_PER_KIND_PER_HOUR } from "../../src/email/quota";
import { openContent, sealEmail } from "../../src/email/seal";
import { PermanentEmailError } from "../../src/email/sender";
import { emails } from "../../src/email/templates";
import { consumeEmails } from "../../src/jobs/email-consumer";
import { testDeps } from "../support/deps";
import {
  deadLetterOf,
  deadLettersFor,
  failingQueue,
  pendingFor,
  recordingLogger,
  recordingQueue,
  scriptedResend,
} from "../support/email";
import { outbox, outboxAtLeast } from "../support/identity";
import { attempt, runSyncCron } from "../support/sync";

// Email that is never lost (docs/design.md "Identity"): every email is a message on the email
// queue, delivered by its consumer with backoff under one idempotency key; a queue outage keeps it
// in D1 for the 5-minute cron; what cannot be delivered is dead-lettered with its reason.

const address = () => `mail-${crypto.randomUUID()}@example.com`;
const resetLink = () => `https://app.ledgerlink.test/reset-password?token=${crypto.randomUUID()}`;
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** One delivery of `body`, straight to the consumer with these deps, and how it was settled. */
async function deliverWith(deps: Awaited<ReturnType<typeof testDeps>>, body: unknown, attempts: number) {
  let settled: { action: string; delaySeconds?: number } = { action: "none" };
  const message = {
    id: `msg-${crypto.randomUUID()}`,
    timestamp: new Date(),
    attempts,
    body,
    ack: () => {
      settled = { action: "ack" };
    },
    retry: (o?: QueueRetryOptions) => {
      settled = { action: "retry", delaySeconds: o?.delaySeconds };
    },
  };
  await consumeEmails(deps, { queue: EMAIL_QUEUES.email, messages: [message] } as unknown as MessageBatch<unknown>);
  return settled;
}

describe("email through the queue: nothing lost", () => {
  it("a provider's 500 loses no email: deliveries fail, then go through, and each email arrives exactly once", {
    timeout: 40_000,
  }, async () => {
    const to = [address(), address(), address()];
    // Resend answers 500 to the first two deliveries of every email, then 200.
    const resend = scriptedResend(to, [500, 500]);
    try {
      const deps = await testDeps();
      for (const a of to) deps.mailer.send(emails.passwordReset(a, null, resetLink()));
      await deps.settle();
      await vi.waitFor(() => expect([...resend.perKey().values()].filter((k) => k.delivered > 0)).toHaveLength(3), {
        timeout: 25_000,
        interval: 100,
      });
      // Time for any stray redelivery to show itself.
      await pause(1500);
      const keys = resend.perKey();
      expect(keys.size).toBe(3);
      for (const [key, sends] of keys) {
        // The same Idempotency-Key on every delivery of one email: Resend sends it once.
        expect(key).toMatch(UUID);
        expect(sends).toEqual({ calls: 3, delivered: 1 });
      }
      const deliveredTo = resend.calls.filter((c) => c.status === 200).map((c) => JSON.parse(c.body).to[0]);
      expect(deliveredTo.sort()).toEqual([...to].sort());
      for (const a of to) expect(await deadLettersFor(a)).toEqual([]);
    } finally {
      resend.stop();
    }
  });

  it("a queue outage loses no email: kept sealed in D1, queued by the 5-minute cron, delivered once", {
    timeout: 30_000,
  }, async () => {
    const to = address();
    const link = resetLink();
    const outage = failingQueue();
    const { logger, lines } = recordingLogger();
    const deps = await testDeps({ emailQueue: outage.queue, sleep: async () => {}, logger });
    deps.mailer.send(emails.passwordReset(to, null, link));
    await deps.settle();
    // Tried briefly, then kept: never plaintext (the email carries a single-use link).
    expect(outage.tries).toHaveLength(1 + QUEUE_SEND_WAITS_MS.length);
    const pending = await pendingFor(to);
    expect(pending).toHaveLength(1);
    expect(pending[0]?.sealed).toMatch(/^v1\./);
    const stored = JSON.stringify(pending);
    expect(stored).not.toContain(to);
    expect(stored).not.toContain("token=");
    expect(lines.find((l) => l.msg.startsWith("email queue unavailable"))).toBeDefined();
    expect(JSON.stringify(lines)).not.toContain(to);
    expect(await outbox(to)).toEqual([]);

    // The queue is back: the next tick of the 5-minute cron queues it; the consumer delivers it.
    await runSyncCron();
    const [message] = await outboxAtLeast(to, 1);
    expect(message?.text).toContain(link);
    expect(await pendingFor(to)).toEqual([]);
    await runSyncCron();
    await pause(500);
    expect(await outbox(to)).toHaveLength(1);
  });

  it("an email the queue took although its send threw is still delivered once (same idempotency key)", {
    timeout: 30_000,
  }, async () => {
    const to = address();
    // Every send reaches the real queue, and then reports a failure (an answer lost).
    const lost = failingQueue({ through: true });
    const deps = await testDeps({ emailQueue: lost.queue, sleep: async () => {} });
    deps.mailer.send(emails.passwordChanged(to, null));
    await deps.settle();
    expect(await pendingFor(to)).toHaveLength(1);
    await outboxAtLeast(to, 1);
    await runSyncCron();
    await vi.waitFor(async () => expect(await pendingFor(to)).toEqual([]), { timeout: 5000, interval: 50 });
    await pause(1000);
    // Four messages reached the queue (three tries, then the cron): one email in the outbox.
    expect(await outbox(to)).toHaveLength(1);
  });

  it("a refusal the provider would repeat is dead-lettered at once, with its reason and no address or link", {
    timeout: 30_000,
  }, async () => {
    const to = address();
    const link = resetLink();
    const resend = scriptedResend(to, [422, 422, 422]);
    try {
      const deps = await testDeps();
      deps.mailer.send(emails.passwordReset(to, null, link));
      await deps.settle();
      const letter = await deadLetterOf(to);
      expect(letter).toMatchObject({
        kind: "password_reset",
        attempts: 1,
        error_code: "email_refused",
        error_message: "email provider answered 422",
        replayed_at: null,
      });
      expect(resend.calls).toHaveLength(1);
      const { sealed, ...clear } = letter;
      expect(JSON.stringify(clear)).not.toContain(to);
      expect(JSON.stringify(letter)).not.toContain("token=");
      // The sealed message is kept (for a replay) and opens only as its own email.
      const keyring = (await loadConfig(env)).encryption.keyring;
      expect((await openContent(keyring, letter.email_id, sealed as string)).text).toContain(link);
      await expect(openContent(keyring, "eml_another", sealed as string)).rejects.toThrow();
    } finally {
      resend.stop();
    }
  });

  it("retries with capped full-jitter backoff, and dead-letters the last attempt with its reason", {
    timeout: 30_000,
  }, async () => {
    const to = address();
    const config = await loadConfig(env);
    const { maxAttempts, capSeconds } = config.email.retry;
    const resend = scriptedResend(
      to,
      Array.from({ length: 20 }, () => 503),
    );
    try {
      const message = await sealEmail(config.encryption.keyring, emails.passwordChanged(to, null), new Date());
      for (let n = 1; n < maxAttempts; n++) {
        const settled = await attempt(message, n, env, EMAIL_QUEUES.email);
        expect(settled.action, `attempt ${n}`).toBe("retry");
        const delay = (settled as { delaySeconds: number }).delaySeconds;
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(capSeconds);
      }
      expect(await attempt(message, maxAttempts, env, EMAIL_QUEUES.email)).toEqual({ action: "ack" });
      expect(await deadLetterOf(to)).toMatchObject({
        email_id: message.id,
        attempts: maxAttempts,
        error_code: "email_attempts_exhausted",
        error_message: "email provider answered 503",
      });
      expect(new Set(resend.calls.map((c) => c.key))).toEqual(new Set([message.idempotency_key]));
    } finally {
      resend.stop();
    }
  });

  it("counts an email once against the hourly quota of its address and kind, however many deliveries it takes", {
    timeout: 40_000,
  }, async () => {
    const to = address();
    const resend = scriptedResend(to, [500]);
    const queued = recordingQueue();
    try {
      const deps = await testDeps({ emailQueue: queued.queue });
      for (let i = 0; i < EMAILS_PER_KIND_PER_HOUR; i++) deps.mailer.send(emails.passwordChanged(to, null));
      await deps.settle();
      await vi.waitFor(
        () =>
          expect([...resend.perKey().values()].filter((k) => k.delivered > 0)).toHaveLength(EMAILS_PER_KIND_PER_HOUR),
        { timeout: 25_000, interval: 100 },
      );
      for (const sends of resend.perKey().values()) expect(sends).toEqual({ calls: 2, delivered: 1 });
      // Ten deliveries counted five emails: the sixth of the hour is refused before it is queued.
      deps.mailer.send(emails.passwordChanged(to, null));
      await deps.settle();
      expect(queued.sent).toHaveLength(EMAILS_PER_KIND_PER_HOUR);
    } finally {
      resend.stop();
    }
  });

  it("the development outbox is written by the queue's consumer, once per idempotency key", async () => {
    const to = address();
    const queued = recordingQueue();
    const deps = await testDeps({ emailQueue: queued.queue });
    deps.mailer.send(emails.verifyEmail(to, "https://app.ledgerlink.test/verify-email?token=abc"));
    await deps.settle();
    await outboxAtLeast(to, 1);
    // Queues delivers at least once: a redelivery of the same message stores nothing new.
    expect(await attempt(queued.sent[0], 2, env, EMAIL_QUEUES.email)).toEqual({ action: "ack" });
    expect(await outbox(to)).toHaveLength(1);
  });

  it("drops a message it cannot parse (retrying cannot fix it)", async () => {
    expect(await attempt({ v: 1, id: "eml_x" }, 1, env, EMAIL_QUEUES.email)).toEqual({ action: "ack" });
    expect(await attempt({ nonsense: true }, 1, env, EMAIL_QUEUES.deadLetters)).toEqual({ action: "ack" });
  });
});

describe("email failures in logs and dead letters", () => {
  it("never hold the address or a link, whatever the provider said", async () => {
    const to = address();
    const link = resetLink();
    const { logger, lines } = recordingLogger();
    const forwarded: EmailDeadLetterMessage[] = [];
    let refuse = false;
    const deps = await testDeps({
      logger,
      emailSender: {
        async send() {
          const said = `mailbox busy for ${to.toUpperCase()}; see ${link}`;
          throw refuse ? new PermanentEmailError(said) : new Error(said);
        },
      },
      emailDeadLetters: {
        send: async (m: EmailDeadLetterMessage) => {
          forwarded.push(m);
          return { metadata: {} } as QueueSendResponse;
        },
      },
    });
    const config = await loadConfig(env);
    const message: EmailQueueMessage = await sealEmail(
      config.encryption.keyring,
      emails.passwordReset(to, null, link),
      new Date(),
    );
    expect((await deliverWith(deps, message, 1)).action).toBe("retry");
    const retry = lines.find((l) => l.msg === "email retry");
    expect(retry?.fields).toMatchObject({
      email_id: message.id,
      kind: "password_reset",
      outcome: "retry",
      attempts: 1,
    });
    expect(retry?.fields?.error).toBe("mailbox busy for <recipient>; see <link>");
    refuse = true;
    expect((await deliverWith(deps, message, 2)).action).toBe("ack");
    expect(forwarded[0]?.error).toEqual({ code: "email_refused", message: "mailbox busy for <recipient>; see <link>" });
    const said = JSON.stringify(lines) + JSON.stringify(forwarded.map(({ sealed: _, ...rest }) => rest));
    expect(said.toLowerCase()).not.toContain(to.toLowerCase());
    expect(said).not.toContain("token=");
  });
});
