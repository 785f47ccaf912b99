// Reading the development outbox of a running server (e2e tests, benchmarks, examples). Emails
// leave after the response (the Worker's waitUntil), so these wait for them, briefly.

/** The newest message to `to` whose subject matches, waiting up to `timeoutMs` for it. */
export async function waitForEmail(base, to, subject = /./, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${base}/api/v1/dev/outbox?to=${encodeURIComponent(to)}`);
    if (res.ok) {
      const { messages } = await res.json();
      const found = messages.find((m) => subject.test(m.subject));
      if (found) return found;
    }
    if (Date.now() > deadline) throw new Error(`no email matching ${subject} reached ${to}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The `token=` value of the newest matching email to `to`. */
export async function waitForToken(base, to, subject = /./, timeoutMs) {
  const message = await waitForEmail(base, to, subject, timeoutMs);
  const token = /token=([A-Za-z0-9_%-]+)/.exec(message.text)?.[1];
  if (!token) throw new Error(`no token in "${message.subject}"`);
  return decodeURIComponent(token);
}
