import { describe, expect, it } from "vitest";
import { createMailer, EMAIL_RETRY_WAITS_MS, EMAILS_PER_KIND_PER_HOUR } from "../../src/email/mailer";
import { type EmailMessage, type EmailSender, PermanentEmailError } from "../../src/email/sender";
import { emails } from "../../src/email/templates";
import type { LogFields, Logger } from "../../src/logger";
import { testDeps } from "../support/deps";

/** The provider (an outside service) as a script of answers; the quota is the real Gate's. */
function scripted(answers: (Error | "ok")[]) {
  const attempts: EmailMessage[] = [];
  const keys: (string | undefined)[] = [];
  const sender: EmailSender = {
    async send(m, delivery) {
      attempts.push(m);
      keys.push(delivery?.key);
      const next = answers.shift() ?? "ok";
      if (next !== "ok") throw next;
    },
  };
  return { sender, attempts, keys };
}

function recordingLogger() {
  const lines: { level: string; msg: string; fields?: LogFields }[] = [];
  const at = (level: string) => (msg: string, fields?: LogFields) => void lines.push({ level, msg, fields });
  const logger: Logger = { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
  return { logger, lines };
}

async function mailerWith(answers: (Error | "ok")[]) {
  const deps = await testDeps();
  const { sender, attempts, keys } = scripted(answers);
  const { logger, lines } = recordingLogger();
  const waits: number[] = [];
  const work: Promise<unknown>[] = [];
  const mailer = createMailer({
    sender,
    limiter: deps.limiter,
    logger,
    defer: (w) => void work.push(w),
    sleep: async (ms) => void waits.push(ms),
  });
  return { mailer, attempts, keys, lines, waits, settle: () => Promise.all(work.splice(0)) };
}

const address = () => `retry-${crypto.randomUUID()}@example.com`;

describe("email delivery when the provider fails", () => {
  it("tries a send that failed in passing again, after 1 s and then 2 s, and delivers it once", async () => {
    const m = await mailerWith([new Error("email provider answered 503"), new Error("fetch failed"), "ok"]);
    m.mailer.send(emails.passwordChanged(address(), "Ada"));
    await m.settle();
    expect(m.attempts).toHaveLength(3);
    expect(m.waits).toEqual([...EMAIL_RETRY_WAITS_MS]);
    // One email to the provider: the same idempotency key on every attempt.
    expect(new Set(m.keys).size).toBe(1);
    expect(m.keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(m.lines.filter((l) => l.level === "error")).toEqual([]);
    expect(m.lines.filter((l) => l.msg === "email send failed; trying again")).toHaveLength(2);
  });

  it("does not send again what the provider refused for good, and logs it", async () => {
    const m = await mailerWith([new PermanentEmailError("email provider answered 422")]);
    m.mailer.send(emails.passwordChanged(address(), "Ada"));
    await m.settle();
    expect(m.attempts).toHaveLength(1);
    expect(m.waits).toEqual([]);
    expect(m.lines.find((l) => l.level === "error")?.msg).toBe("email not sent");
  });

  it("gives up after three attempts and logs it, without the address even when the provider names it", async () => {
    const to = address();
    const refusal = () => new Error(`mailbox busy for ${to}`);
    const m = await mailerWith([refusal(), refusal(), refusal(), "ok"]);
    m.mailer.send(emails.passwordChanged(to, "Ada"));
    await m.settle();
    expect(m.attempts).toHaveLength(3);
    const error = m.lines.find((l) => l.level === "error");
    expect(error?.msg).toBe("email not sent");
    expect(error?.fields?.error).toBe("mailbox busy for <recipient>");
    expect(JSON.stringify(m.lines)).not.toContain(to);
  });

  it("counts a retried email once against the hourly quota of its address and kind", async () => {
    const to = address();
    const m = await mailerWith(
      Array.from({ length: EMAILS_PER_KIND_PER_HOUR }, () => [new Error("503"), "ok" as const]).flat(),
    );
    for (let i = 0; i < EMAILS_PER_KIND_PER_HOUR; i++) m.mailer.send(emails.passwordChanged(to, "Ada"));
    await m.settle();
    expect(m.attempts).toHaveLength(2 * EMAILS_PER_KIND_PER_HOUR);
    // The quota's next email is refused before any attempt.
    m.mailer.send(emails.passwordChanged(to, "Ada"));
    await m.settle();
    expect(m.attempts).toHaveLength(2 * EMAILS_PER_KIND_PER_HOUR);
  });
});
