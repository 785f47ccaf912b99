import { html } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import type { HandOffMessage } from "../services/connections/handoff";

// The pages the provider's redirect lands on. No external resources; the only script is the
// hand-off's, allowed by its per-response nonce (src/http/security-headers.ts); every
// interpolation is HTML-escaped. Text the initiator chose (the alias) never appears.
function page(title: string, body: HtmlEscapedString | Promise<HtmlEscapedString>) {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${title} · Ledgerlink</title>
</head>
<body>
<main>
${body}
</main>
</body>
</html>`;
}

/** "Return to the app": the browser holds nothing to finish with; the app completes the connection. */
export function returnToAppPage(providerName: string) {
  return page(
    "Return to the app",
    html`<h1>Almost done</h1>
<p>${providerName} sent you back to Ledgerlink. Return to the app you started from to finish connecting your account.</p>
<p>If you did not start connecting an account, close this window: nothing has been connected.</p>`,
  );
}

/** Posts the provider's answer to the opener window, at the app's origin only. */
export function postMessagePage(origin: string, message: HandOffMessage, providerName: string, nonce: string) {
  return page(
    "Return to the app",
    html`<h1>Almost done</h1>
<p id="status">${providerName} sent you back to Ledgerlink. Return to the app you started from to finish connecting your account.</p>
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
export function notConnectedPage(detail: string, code: string) {
  return page(
    "Not connected",
    html`<h1>Not connected</h1>
<p>${detail}</p>
<p>Error code: <code>${code}</code></p>`,
  );
}
