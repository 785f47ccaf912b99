import { describe, expect, it } from "vitest";
import { resendSender } from "../../src/email/sender";
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
    await expect(
      resendSender("k", "f@example.com", refuse as typeof fetch).send(emails.passwordChanged("a@b.c", "A")),
    ).rejects.toThrow("email provider answered 422");
  });
});
