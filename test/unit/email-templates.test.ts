import { describe, expect, it } from "vitest";
import { type Email, emails } from "../../src/email/templates";

// One message of every template, with hostile values where a caller can choose them.
const hostile = `<script>alert(1)</script>"'&`;
const all: Email[] = [
  emails.verifyEmail("a@example.com", "https://app.example.com/verify-email?token=t1"),
  emails.signupAttempt("a@example.com", "Ada", "https://app.example.com/forgot-password"),
  emails.passwordReset("a@example.com", hostile, "https://app.example.com/reset-password?token=t2"),
  emails.passwordResetDone("a@example.com", "Ada"),
  emails.passwordChanged("a@example.com", null),
  emails.accountLocked("a@example.com", "Ada", 15),
  emails.changeEmailVerify("b@example.com", "https://app.example.com/verify-email?token=t3"),
  emails.changeEmailRequested("a@example.com", "Ada", "b@example.com"),
  emails.ownAccountDeleted("a@example.com", "Ada"),
  emails.accountDeleted("a@example.com", "Ada", hostile),
  emails.emailChanged("a@example.com", "Ada", "b@example.com"),
  emails.mfaChanged("a@example.com", "Ada", true),
  emails.mfaChanged("a@example.com", "Ada", false),
];

describe("email templates", () => {
  it.each(all.map((m) => [m.subject, m] as const))("%s: a plain-text part and a phone-readable HTML part", (_, m) => {
    expect(m.text.length).toBeGreaterThan(20);
    expect(m.text).not.toMatch(/<(p|a|div)\b|style=/);
    expect(m.text).toContain("You received this because of activity on a Ledgerlink account");
    expect(m.html).toMatch(/^<!doctype html>/i);
    expect(m.html).toContain('<html lang="en">');
    expect(m.html).toContain('name="viewport" content="width=device-width, initial-scale=1"');
    expect(m.html).toContain("max-width:560px");
    expect(m.html).not.toContain("<script>");
  });

  it("puts every link in both parts: a button and the address written out for clients that drop buttons", () => {
    const m = emails.passwordReset("a@example.com", null, "https://app.example.com/reset-password?token=t2&x=1");
    expect(m.text).toContain("Reset password: https://app.example.com/reset-password?token=t2&x=1");
    expect(m.html).toContain('<a href="https://app.example.com/reset-password?token=t2&amp;x=1"');
    expect(m.html).toContain(
      "copy this address into your browser: https://app.example.com/reset-password?token=t2&amp;x=1",
    );
  });

  it("escapes what a person typed in the HTML part and leaves it readable in the text part", () => {
    const m = emails.accountDeleted("a@example.com", "Ada", hostile);
    expect(m.html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(m.text).toContain(`Their message: ${hostile}`);
  });
});
