import { html } from "hono/html";
import type { EmailKind } from "./kinds";
import type { EmailMessage } from "./sender";

export type { EmailKind } from "./kinds";

export interface Email extends EmailMessage {
  kind: EmailKind;
}

// Every user-supplied value goes through hono/html's escaping in the HTML part; the text part
// is plain text, where markup is inert.
type Body = { subject: string; lines: string[]; link?: { label: string; url: string } };

// One simple layout for every message: a single readable column, inline styles (mail clients
// drop stylesheets), a real button that is also a plain link, the subject as the heading, and a
// footer saying why the message came. Contrast meets WCAG AA; nothing depends on images.
const P = "margin:0 0 16px;font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1b1f24";
const BUTTON =
  "display:inline-block;padding:12px 20px;border-radius:8px;background:#0b5cad;color:#ffffff;text-decoration:none;font:600 16px/1.2 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif";
const FOOT = "margin:24px 0 0;font:13px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#4a5360";
const FOOTER = "You received this because of activity on a Ledgerlink account using this address.";

function render(kind: EmailKind, to: string, b: Body): Email {
  const text = [...b.lines, ...(b.link ? ["", `${b.link.label}: ${b.link.url}`] : []), "", "—", FOOTER].join("\n");
  const paragraphs = b.lines.map((l) => html`<p style="${P}">${l}</p>`);
  const link = b.link
    ? html`<p style="${P}"><a href="${b.link.url}" style="${BUTTON}">${b.link.label}</a></p>
<p style="${FOOT}">If the button does not work, copy this address into your browser: ${b.link.url}</p>`
    : "";
  const body = html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${b.subject}</title></head>
<body style="margin:0;padding:24px 12px;background:#f6f7f9">
<div role="article" aria-label="${b.subject}" style="max-width:560px;margin:0 auto;background:#ffffff;border-radius:12px;padding:28px 24px">
<p style="margin:0 0 20px;font:600 15px/1.2 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#0b5cad">Ledgerlink</p>
${paragraphs}${link}
<p style="${FOOT}">${FOOTER}</p>
</div>
</body></html>`;
  return { kind, to, subject: b.subject, text, html: String(body) };
}

/**
 * The greeting. `name` is null when the address has not been verified: a name typed at sign-up
 * is the sender's choice, and an attacker could otherwise put their words into a stranger's inbox.
 */
const hello = (name: string | null) => (name ? `Hello ${name},` : "Hello,");

export const emails = {
  verifyEmail: (to: string, url: string) =>
    render("verification", to, {
      subject: "Confirm your email address",
      lines: [hello(null), "Confirm your email address to finish creating your Ledgerlink account."],
      link: { label: "Confirm email", url },
    }),
  signupAttempt: (to: string, name: string | null, resetUrl: string) =>
    render("signup_attempt", to, {
      subject: "Someone tried to sign up with your email",
      lines: [
        hello(name),
        "Someone tried to create a Ledgerlink account with this address, which already has one.",
        "If it was you, log in instead, or reset your password if you forgot it. Otherwise ignore this email.",
      ],
      link: { label: "Reset password", url: resetUrl },
    }),
  passwordReset: (to: string, name: string | null, url: string) =>
    render("password_reset", to, {
      subject: "Reset your password",
      lines: [hello(name), "Use the link below to choose a new password. It expires soon and works once."],
      link: { label: "Reset password", url },
    }),
  passwordResetDone: (to: string, name: string | null) =>
    render("security_notice", to, {
      subject: "Your password was reset",
      lines: [hello(name), "Your password was reset and every device was signed out. If this wasn't you, contact us."],
    }),
  passwordChanged: (to: string, name: string | null) =>
    render("security_notice", to, {
      subject: "Your password was changed",
      lines: [hello(name), "Your password was changed and your other devices were signed out."],
    }),
  accountLocked: (to: string, name: string | null, minutes: number) =>
    render("account_locked", to, {
      subject: "Too many failed logins to your account",
      lines: [
        hello(name),
        `After too many failed login attempts, logins from that device or network are blocked for ${minutes} minutes.`,
        "Your other devices are not affected. If this wasn't you, consider resetting your password.",
      ],
    }),
  changeEmailVerify: (to: string, url: string) =>
    render("verification", to, {
      subject: "Confirm your new email address",
      lines: [hello(null), "Confirm this address to make it your Ledgerlink login."],
      link: { label: "Confirm new email", url },
    }),
  changeEmailRequested: (to: string, name: string | null, newEmail: string) =>
    render("security_notice", to, {
      subject: "Email change requested",
      lines: [
        hello(name),
        `A change of your login email to ${newEmail} was requested. It takes effect once confirmed.`,
      ],
    }),
  ownAccountDeleted: (to: string, name: string | null) =>
    render("account_deleted", to, {
      subject: "Your Ledgerlink account was deleted",
      lines: [
        hello(name),
        "You deleted your Ledgerlink account. Its data, connections and stored provider credentials are erased.",
        "If this wasn't you, contact us at once.",
      ],
    }),
  accountDeleted: (to: string, name: string | null, message: string | null) =>
    render("account_deleted", to, {
      subject: "Your Ledgerlink account was deleted",
      lines: [
        hello(name),
        "An administrator deleted your Ledgerlink account and its data.",
        ...(message ? [`Their message: ${message}`] : []),
      ],
    }),
  emailChanged: (to: string, name: string | null, newEmail: string) =>
    render("security_notice", to, {
      subject: "Your login email was changed",
      lines: [hello(name), `Your login email is now ${newEmail}. If this wasn't you, contact us at once.`],
    }),
  consentExpiring: (to: string, name: string | null, provider: string, endsAt: Date, url: string) =>
    render("connection_notice", to, {
      subject: `Your ${provider} connection needs you by ${endsAt.toISOString().slice(0, 10)}`,
      lines: [
        hello(name),
        `The access you gave Ledgerlink to ${provider} ends on ${endsAt.toUTCString()}. After that we can no longer update its accounts (what is already here stays).`,
        "To keep it up to date, open Ledgerlink and reconnect it (Connections, then Reconnect); it takes a minute at your bank or broker.",
      ],
      link: { label: "Open your connections", url },
    }),
  mfaChanged: (to: string, name: string | null, enabled: boolean) =>
    render("security_notice", to, {
      subject: enabled ? "Two-step login is on" : "Two-step login was turned off",
      lines: [
        hello(name),
        enabled
          ? "Two-step login (an authenticator app code) is now required to log in to your Ledgerlink account."
          : "Two-step login was turned off for your Ledgerlink account. If this wasn't you, reset your password at once.",
      ],
    }),
};

/** The name a message may use: only an address the account has proven (see `hello`). */
export const greeting = (user: { name: string; emailVerifiedAt: Date | null }) =>
  user.emailVerifiedAt ? user.name : null;
