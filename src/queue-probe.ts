/**
 * The message readiness sends to prove a queue takes messages (src/routes/health.ts). Every
 * consumer acknowledges it and does nothing else.
 */
export const QUEUE_PROBE = { v: 1, kind: "probe" } as const;

export const isQueueProbe = (body: unknown): boolean =>
  typeof body === "object" && body !== null && (body as { kind?: unknown }).kind === "probe";
