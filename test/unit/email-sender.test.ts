import { describe, expect, it } from "vitest";
import { cloudflareSender, PermanentEmailError, resendSender } from "../../src/email/sender";
import { emails } from "../../src/email/templates";

describe("resendSender", () => {
  it("POSTs the message to Resend's API with the key as a bearer token", async () => {
    const seen: Request[] = [];
    const fake = async (input: RequestInfo | URL, init?: RequestInit) => {
      seen.push(new Request(input, init));
      return Response.json({ id: "email_1" });
    };
    await resendSender("re_secret", "Ledgerlink <no-reply@example.com>", fake as typeof fetch).send(
      emails.passwordChanged("ada@example.com", "Ada"),
    );
    expect(seen).toHaveLength(1);
    const req = seen[0] as Request;
    expect(req.url).toBe("https://api.resend.com/emails");
    expect(req.method).toBe("POST");
    expect(req.headers.get("Authorization")).toBe("Bearer re_secret");
    expect(await req.json()).toMatchObject({
      from: "Ledgerlink <no-reply@example.com>",
      to: ["ada@example.com"],
      subject: "Your password was changed",
    });
  });

  it("fails loudly when the provider refuses, so the caller's error boundary sees it", async () => {
    const refuse = async () => new Response("nope", { status: 422 });
    const sent = resendSender("k", "f@example.com", refuse as typeof fetch).send(emails.passwordChanged("a@b.c", "A"));
    await expect(sent).rejects.toThrow("email provider answered 422");
    // A refusal the provider would repeat: the email consumer dead-letters it at once.
    await expect(sent).rejects.toBeInstanceOf(PermanentEmailError);
  });

  it("sends the delivery's key as Idempotency-Key, so a retried email goes out once", async () => {
    const seen: Request[] = [];
    const fake = async (input: RequestInfo | URL, init?: RequestInit) => {
      seen.push(new Request(input, init));
      return Response.json({ id: "email_1" });
    };
    await resendSender("k", "f@example.com", fake as typeof fetch).send(emails.passwordChanged("a@b.c", "A"), {
      key: "key-1",
    });
    expect(seen[0]?.headers.get("Idempotency-Key")).toBe("key-1");
  });

  it("marks a rate limit, a key still in flight or a server error as passing (worth another attempt)", async () => {
    for (const status of [409, 429, 500, 503]) {
      const busy = async () => new Response("busy", { status });
      const sent = resendSender("k", "f@example.com", busy as typeof fetch).send(emails.passwordChanged("a@b.c", "A"));
      await expect(sent).rejects.toThrow(`email provider answered ${status}`);
      await expect(sent).rejects.not.toBeInstanceOf(PermanentEmailError);
    }
  });
});

describe("cloudflareSender (Cloudflare Email Service's send_email binding)", () => {
  it("hands the binding the whole message, text and HTML, from the configured sender", async () => {
    const sent: unknown[] = [];
    const binding = { send: async (m: unknown) => void sent.push(m) };
    const message = emails.passwordChanged("ada@example.com", "Ada");
    await cloudflareSender(binding, "Ledgerlink <no-reply@example.com>").send(message);
    expect(sent).toEqual([
      {
        from: "Ledgerlink <no-reply@example.com>",
        to: "ada@example.com",
        subject: "Your password was changed",
        text: message.text,
        html: message.html,
      },
    ]);
    expect(message.text).toMatch(/password/i);
    expect(message.html).toMatch(/^<!doctype html>/i);
  });

  it("fails loudly when the binding refuses", async () => {
    const binding = { send: () => Promise.reject(new Error("sender not allowed")) };
    await expect(cloudflareSender(binding, "f@example.com").send(emails.passwordChanged("a@b.c", "A"))).rejects.toThrow(
      "sender not allowed",
    );
  });

  it("is what EMAIL_TRANSPORT=cloudflare selects, and the configuration needs the binding", async () => {
    const { parseConfig } = await import("../../src/config");
    const { env } = await import("cloudflare:workers");
    const base = { ...env, EMAIL_TRANSPORT: "cloudflare" } as unknown as Record<string, unknown>;
    await expect(parseConfig(base)).rejects.toThrow(/EMAIL/);
    const sent: unknown[] = [];
    const withBinding = { ...base, EMAIL: { send: async (m: unknown) => void sent.push(m) } };
    const config = await parseConfig(withBinding);
    expect(config.email.transport).toBe("cloudflare");
    const { createEmailSender } = await import("../../src/email/sender");
    const { createDb } = await import("../../src/db/client");
    await createEmailSender(config, createDb(env.DB), () => new Date(), withBinding.EMAIL as never).send(
      emails.passwordChanged("ada@example.com", "Ada"),
    );
    expect(sent).toHaveLength(1);
  });
});
