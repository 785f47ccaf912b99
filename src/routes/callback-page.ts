import { html } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import type { ConnectionView } from "../services/connections/view";

// The page the provider sends the browser back to. No scripts, styles or external resources, so
// the API's `default-src 'none'` CSP applies unchanged; every interpolation is HTML-escaped.
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

/** "Connected": names the provider and the connection. */
export function connectedPage(connection: ConnectionView, providerName: string) {
  return page(
    "Connected",
    html`<h1>Connected</h1>
<p>Your ${providerName} account is connected to Ledgerlink${connection.alias ? html` as “${connection.alias}”` : ""}. You can close this window.</p>
<p>Connection: <code>${connection.id}</code></p>`,
  );
}

/** "Not connected": why, with the stable error code for support. */
export function notConnectedPage(detail: string, code: string) {
  return page(
    "Not connected",
    html`<h1>Not connected</h1>
<p>${detail}</p>
<p>Error code: <code>${code}</code></p>`,
  );
}
