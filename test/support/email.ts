import { env } from "cloudflare:workers";
import { expect, vi } from "vitest";
import { sha256Hex } from "../../src/crypto/random";
import type { EmailQueueMessage } from "../../src/email/messages";
import { resendSender } from "../../src/email/sender";
import { testTransport } from "../../src/email/test-transport";
import type { LogFields, Logger } from "../../src/logger";

/**
 * Resend (an outside service) as a script of answers per idempotency key: the real adapter
 * (src/email/sender.ts) over a fetch that answers `statuses` in turn to each key's calls, then 200.
 * Routed for `to` only, so the Worker's real queue consumer talks to it (src/email/test-transport.ts).
 */
export function scriptedResend(to: string | string[], statuses: number[]) {
  const calls: { key: string; status: number; body: string }[] = [];
  const fetcher = async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init);
    const key = req.headers.get("Idempotency-Key") ?? "";
    const seen = calls.filter((c) => c.key === key).length;
    const status = statuses[seen] ?? 200;
    calls.push({ key, status, body: await req.text() });
    return status === 200 ? Response.json({ id: `re_${key}` }) : new Response("no", { status });
  };
  const sender = resendSender("re_test_key_123", "Ledgerlink <no-reply@ledgerlink.test>", fetcher as typeof fetch);
  const addresses = Array.isArray(to) ? to : [to];
  for (const a of addresses) testTransport.route(a, sender);
  return {
    calls,
    /** Calls per idempotency key. */
    perKey: () => {
      const m = new Map<string, { calls: number; delivered: number }>();
      for (const c of calls) {
        const e = m.get(c.key) ?? { calls: 0, delivered: 0 };
        e.calls++;
        if (c.status === 200) e.delivered++;
        m.set(c.key, e);
      }
      return m;
    },
    stop: () => {
      for (const a of addresses) testTransport.clear(a);
    },
  };
}

/** A queue whose `send` and `sendBatch` fail (a Queues outage); `through` also hands them on (an answer lost). */
export function failingQueue(options: { through?: boolean } = {}) {
  const tries: unknown[] = [];
  const queue = {
    async send(body: EmailQueueMessage, o?: QueueSendOptions): Promise<QueueSendResponse> {
      tries.push(body);
      if (options.through) await env.EMAIL_QUEUE.send(body, o);
      throw new Error("Queue send failed: internal error");
    },
    async sendBatch(batch: Iterable<MessageSendRequest<EmailQueueMessage>>): Promise<QueueSendBatchResponse> {
      for (const m of batch) tries.push(m.body);
      throw new Error("Queue sendBatch failed: internal error");
    },
  };
  return { queue, tries };
}

/** The real email queue, recording what is sent to it. */
export function recordingQueue() {
  const sent: EmailQueueMessage[] = [];
  const queue = {
    async send(body: EmailQueueMessage, o?: QueueSendOptions) {
      sent.push(body);
      return env.EMAIL_QUEUE.send(body, o);
    },
    async sendBatch(batch: Iterable<MessageSendRequest<EmailQueueMessage>>, o?: QueueSendBatchOptions) {
      const list = [...batch];
      for (const m of list) sent.push(m.body);
      return env.EMAIL_QUEUE.sendBatch(list, o);
    },
  };
  return { queue, sent };
}

export const recipientHashOf = (to: string) => sha256Hex(to.trim().toLowerCase());

export interface PendingRow {
  id: string;
  idempotency_key: string;
  kind: string;
  recipient_hash: string;
  sealed: string;
}

/** Emails kept back for the cron, for one address. */
export async function pendingFor(to: string): Promise<PendingRow[]> {
  const { results } = await env.DB.prepare("SELECT * FROM email_pending WHERE recipient_hash = ?")
    .bind(await recipientHashOf(to))
    .all<PendingRow>();
  return results;
}

export interface DeadLetterRow {
  id: string;
  email_id: string;
  kind: string;
  recipient_hash: string;
  attempts: number;
  error_code: string;
  error_message: string;
  sealed: string | null;
  replayed_at: number | null;
  replay_email_id: string | null;
}

/** Email dead letters of one address. */
export async function deadLettersFor(to: string): Promise<DeadLetterRow[]> {
  const { results } = await env.DB.prepare("SELECT * FROM email_dead_letters WHERE recipient_hash = ? ORDER BY id")
    .bind(await recipientHashOf(to))
    .all<DeadLetterRow>();
  return results;
}

/** Waits (bounded) for the address's dead letter. */
export const deadLetterOf = (to: string, timeout = 15_000) =>
  vi.waitFor(
    async () => {
      const [row] = await deadLettersFor(to);
      expect(row, "no dead letter yet").toBeDefined();
      return row as DeadLetterRow;
    },
    { timeout, interval: 100 },
  );

/** A logger that keeps its lines. */
export function recordingLogger() {
  const lines: { level: string; msg: string; fields?: LogFields }[] = [];
  const make = (base: LogFields): Logger => {
    const at = (level: string) => (msg: string, fields?: LogFields) =>
      void lines.push({ level, msg, fields: { ...base, ...fields } });
    return {
      debug: at("debug"),
      info: at("info"),
      warn: at("warn"),
      error: at("error"),
      with: (f) => make({ ...base, ...f }),
    };
  };
  return { logger: make({}), lines };
}
