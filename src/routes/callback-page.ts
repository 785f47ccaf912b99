import { html } from "hono/html";
import type { HandOffMessage } from "../services/connections/handoff";
import { page } from "./page";

// The pages the provider's redirect lands on (the shell: src/routes/page.ts). Text the initiator
// chose (the alias) never appears.
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
