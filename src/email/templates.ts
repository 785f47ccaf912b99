import { html } from "hono/html";
import type { EmailMessage } from "./sender";

// Every user-supplied value goes through hono/html's escaping in the HTML part; the text part
// is plain text, where markup is inert.
type Body = { subject: string; lines: string[]; link?: { label: string; url: string } };

function render(to: string, b: Body): EmailMessage {
  const text = [...b.lines, ...(b.link ? ["", `${b.link.label}: ${b.link.url}`] : [])].join("\n");
  const paragraphs = b.lines.map((l) => html`<p>${l}</p>`);
  const link = b.link ? html`<p><a href="${b.link.url}">${b.link.label}</a></p>` : "";
  const body = html`<!doctype html><html><body>${paragraphs}${link}</body></html>`;
  return { to, subject: b.subject, text, html: String(body) };
}

const hello = (name: string) => `Hello ${name},`;

export const emails = {
  verifyEmail: (to: string, name: string, url: string) =>
    render(to, {
      subject: "Confirm your email address",
      lines: [hello(name), "Confirm your email address to finish creating your Ledgerlink account."],
      link: { label: "Confirm email", url },
    }),
  signupAttempt: (to: string, name: string, resetUrl: string) =>
    render(to, {
      subject: "Someone tried to sign up with your email",
      lines: [
        hello(name),
        "Someone tried to create a Ledgerlink account with this address, which already has one.",
        "If it was you, log in instead, or reset your password if you forgot it. Otherwise ignore this email.",
      ],
      link: { label: "Reset password", url: resetUrl },
    }),
  passwordReset: (to: string, name: string, url: string) =>
    render(to, {
      subject: "Reset your password",
      lines: [hello(name), "Use the link below to choose a new password. It expires soon and works once."],
      link: { label: "Reset password", url },
    }),
  passwordResetDone: (to: string, name: string) =>
    render(to, {
      subject: "Your password was reset",
      lines: [hello(name), "Your password was reset and every device was signed out. If this wasn't you, contact us."],
    }),
  passwordChanged: (to: string, name: string) =>
    render(to, {
      subject: "Your password was changed",
      lines: [hello(name), "Your password was changed and your other devices were signed out."],
    }),
  accountLocked: (to: string, name: string, minutes: number) =>
    render(to, {
      subject: "Your account was locked",
      lines: [
        hello(name),
        `After too many failed login attempts your account is locked for ${minutes} minutes.`,
        "If this wasn't you, consider resetting your password.",
      ],
    }),
  changeEmailVerify: (to: string, name: string, url: string) =>
    render(to, {
      subject: "Confirm your new email address",
      lines: [hello(name), "Confirm this address to make it your Ledgerlink login."],
      link: { label: "Confirm new email", url },
    }),
  changeEmailRequested: (to: string, name: string, newEmail: string) =>
    render(to, {
      subject: "Email change requested",
      lines: [
        hello(name),
        `A change of your login email to ${newEmail} was requested. It takes effect once confirmed.`,
      ],
    }),
  accountDeleted: (to: string, name: string, message: string | null) =>
    render(to, {
      subject: "Your Ledgerlink account was deleted",
      lines: [
        hello(name),
        "An administrator deleted your Ledgerlink account and its data.",
        ...(message ? [`Their message: ${message}`] : []),
      ],
    }),
  emailChanged: (to: string, name: string, newEmail: string) =>
    render(to, {
      subject: "Your login email was changed",
      lines: [hello(name), `Your login email is now ${newEmail}. If this wasn't you, contact us at once.`],
    }),
};
