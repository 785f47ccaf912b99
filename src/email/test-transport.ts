/**
 * Tests only (no effect outside ENVIRONMENT=test): a suite scripts the provider for addresses it
 * chooses (a Resend answering 500 three times, a refusal), and the real email queue consumer uses
 * it. The Worker, its queue consumers and the tests share one isolate in the test runtime (as the
 * test clock does, src/clock.ts), so this module is that shared seam. Every other address goes
 * to the configured transport.
 */
import type { EmailSender } from "./sender";

const routes = new Map<string, EmailSender>();
const keyOf = (to: string) => to.trim().toLowerCase();

export const testTransport = {
  /** Emails to `to` go to `sender` until `clear(to)`. */
  route(to: string, sender: EmailSender) {
    routes.set(keyOf(to), sender);
  },
  clear(to: string) {
    routes.delete(keyOf(to));
  },
};

/** The configured sender, with the test routes in front of it under ENVIRONMENT=test. */
export function withTestRoutes(environment: string, sender: EmailSender): EmailSender {
  if (environment !== "test") return sender;
  return { send: (m, delivery) => (routes.get(keyOf(m.to)) ?? sender).send(m, delivery) };
}
