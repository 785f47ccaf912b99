/**
 * Development only (404 in production): minimal pages for the links in emails, so a newcomer
 * clicking a link in the dev outbox finishes the flow. In production these pages are the
 * integrator's, at APP_LINK_BASE_URL (README "For integrators" says what each must do); these are
 * also a working example of that. Each page calls the public API from the browser.
 */
import { Hono } from "hono";
import { html, raw } from "hono/html";
import type { AppEnv } from "../http/app-env";
import { devOnly } from "../http/dev-only";
import { PASSWORD_MIN } from "../services/password-policy";
import { page } from "./page";

const nonceOf = (c: { get(key: "secureHeadersNonce"): unknown }) => String(c.get("secureHeadersNonce") ?? "");

/**
 * The page's one script: posts `body` (a JS expression) as JSON to `path` and shows the API's
 * answer. Every argument is a constant of this file, inserted raw (HTML escaping would break JS).
 */
const submitScript = (
  nonce: string,
  path: string,
  body: string,
  done: string,
  onLoad: boolean,
) => html`<script nonce="${nonce}">
(function () {
  var status = document.getElementById("status");
  var form = document.querySelector("form");
  var token = new URLSearchParams(location.search).get("token");
  async function send() {
    status.textContent = "Working…";
    var res = await fetch(${raw(JSON.stringify(path))}, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(${raw(body)}) });
    var problem = res.ok ? null : await res.json().catch(function () { return {}; });
    status.textContent = res.ok ? ${raw(JSON.stringify(done))} : (problem.detail || "That did not work.") +
      (problem.errors ? " " + problem.errors.map(function (e) { return e.message; }).join("; ") : "");
    if (res.ok && form) form.hidden = true;
  }
  if (form) form.addEventListener("submit", function (e) { e.preventDefault(); send(); });
  ${raw(onLoad ? 'if (!token) status.textContent = "This link has no token."; else send();' : "")}
})();
</script>`;

// devOnly on each route: a bare `.use()` here would match every path of the app it is mounted in.
export const devPageRoutes = new Hono<AppEnv>()
  .get("/verify-email", devOnly(), (c) =>
    c.html(
      page(
        "Confirm your email",
        nonceOf(c),
        html`<h1>Confirm your email</h1>
<p id="status" role="status">Confirming…</p>
${submitScript(nonceOf(c), "/api/v1/auth/verify-email", "{ token: token }", "Your email address is confirmed. You can log in.", true)}`,
      ),
    ),
  )
  .get("/reset-password", devOnly(), (c) =>
    c.html(
      page(
        "Choose a new password",
        nonceOf(c),
        html`<h1>Choose a new password</h1>
<form>
<label for="password">New password</label>
<input id="password" type="password" autocomplete="new-password" required minlength="${PASSWORD_MIN}">
<button type="submit">Set password</button>
</form>
<p id="status" role="status" class="muted">At least ${PASSWORD_MIN} characters with upper and lower case, a digit and a symbol.</p>
${submitScript(nonceOf(c), "/api/v1/auth/reset-password", '{ token: token, new_password: document.getElementById("password").value }', "Your password is changed and every session has ended. Log in with the new one.", false)}`,
      ),
    ),
  )
  .get("/forgot-password", devOnly(), (c) =>
    c.html(
      page(
        "Reset your password",
        nonceOf(c),
        html`<h1>Reset your password</h1>
<form>
<label for="email">Email address</label>
<input id="email" type="email" autocomplete="email" required>
<button type="submit">Send me a link</button>
</form>
<p id="status" role="status" class="muted">If an account uses this address, a link to choose a new password is on its way.</p>
${submitScript(nonceOf(c), "/api/v1/auth/request-password-reset", '{ email: document.getElementById("email").value }', "If an account uses this address, a link is on its way. Check your inbox.", false)}`,
      ),
    ),
  );
