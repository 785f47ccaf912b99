import { html } from "hono/html";
import type { EmailMessage } from "./sender";

/**
 * What a message is, for the per-address quota (docs/contract.md "Defaults": at most 5 of one kind per
 * hour). Verification covers sign-up and email-change confirmations.
 */
export type EmailKind =
  | "verification"
  | "password_reset"
  | "signup_attempt"
  | "security_notice"
  | "account_locked"
  | "account_deleted";

export interface Email extends EmailMessage {
  kind: EmailKind;
}

// Every user-supplied value goes through hono/html's escaping in the HTML part; the text part
// is plain text, where markup is inert.
type Body = { subject: string; lines: string[]; link?: { label: string; url: string } };

function render(kind: EmailKind, to: string, b: Body): Email {
  const text = [...b.lines, ...(b.link ? ["", `${b.link.label}: ${b.link.url}`] : [])].join("\n");
  const paragraphs = b.lines.map((l) => html`<p>${l}</p>`);
  const link = b.link ? html`<p><a href="${b.link.url}">${b.link.label}</a></p>` : "";
  const body = html`<!doctype html><html><body>${paragraphs}${link}</body></html>`;
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
