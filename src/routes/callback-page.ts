import { html } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import type { HandOffMessage } from "../services/connections/handoff";

// The pages the provider's redirect lands on. No external resources; the only script and
// stylesheet are allowed by the response's nonce (src/http/security-headers.ts); every
// interpolation is HTML-escaped. Text the initiator chose (the alias) never appears. One
// readable column, system fonts, WCAG AA contrast in light and dark, no icon that carries meaning.
const STYLE = `
:root { color-scheme: light dark; --fg: #1b1f24; --muted: #4a5360; --bg: #f6f7f9; --card: #fff; --accent: #0b5cad; }
@media (prefers-color-scheme: dark) { :root { --fg: #e8eaed; --muted: #b4bac3; --bg: #111418; --card: #1b2027; --accent: #7ab7ff; } }
* { box-sizing: border-box; }
body { margin: 0; min-height: 100vh; display: grid; place-items: center; padding: 1.5rem;
  font: 1.0625rem/1.55 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
main { width: 100%; max-width: 32rem; background: var(--card); border-radius: 12px; padding: 2rem 1.75rem;
  box-shadow: 0 1px 3px rgb(0 0 0 / 12%); }
.brand { margin: 0 0 1.25rem; font-weight: 600; letter-spacing: .02em; color: var(--accent); }
h1 { margin: 0 0 .75rem; font-size: 1.5rem; line-height: 1.25; }
p { margin: .75rem 0 0; }
.muted { color: var(--muted); font-size: .9375rem; }
code { font-size: .9em; }
`;

function page(title: string, nonce: string, body: HtmlEscapedString | Promise<HtmlEscapedString>) {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<link rel="icon" href="data:,">
<title>${title} · Ledgerlink</title>
<style nonce="${nonce}">${STYLE}</style>
</head>
<body>
<main>
<p class="brand">Ledgerlink</p>
${body}
</main>
</body>
</html>`;
}

/** "Return to the app": the browser holds nothing to finish with; the app completes the connection. */
export function returnToAppPage(providerName: string, nonce: string) {
  return page(
    "Return to the app",
    nonce,
    html`<h1>Almost done</h1>
<p>${providerName} sent you back to Ledgerlink. Return to the app you started from to finish connecting your account.</p>
<p class="muted">If you did not start connecting an account, close this window: nothing has been connected.</p>`,
  );
}

/** Posts the provider's answer to the opener window, at the app's origin only. */
export function postMessagePage(origin: string, message: HandOffMessage, providerName: string, nonce: string) {
  return page(
    "Return to the app",
    nonce,
    html`<h1>Almost done</h1>
<p id="status" role="status">${providerName} sent you back to Ledgerlink. Return to the app you started from to finish connecting your account.</p>
<div id="handoff" hidden data-origin="${origin}" data-message="${JSON.stringify(message)}"></div>
<script nonce="${nonce}">
(function () {
  var d = document.getElementById("handoff");
  if (!window.opener) return;
  window.opener.postMessage(JSON.parse(d.getAttribute("data-message")), d.getAttribute("data-origin"));
  document.getElementById("status").textContent = "Done. You can close this window.";
  window.close();
})();
</script>`,
  );
}

/** The state is unknown, used or expired, or the answer is malformed: start again. */
export function notConnectedPage(detail: string, code: string, nonce: string) {
  return page(
    "Not connected",
    nonce,
    html`<h1>Not connected</h1>
<p>${detail}</p>
<p class="muted">Start connecting again from the app. Error code: <code>${code}</code></p>`,
  );
}
