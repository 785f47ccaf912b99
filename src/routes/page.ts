import { html } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";

// The shell of every page a person sees from the API (the connect hand-off, the development
// pages for emailed links). No external resources; the only script and stylesheet are allowed by
// the response's nonce (src/http/security-headers.ts); every interpolation is HTML-escaped. One
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
form { margin-top: 1rem; display: grid; gap: .75rem; }
label { font-weight: 600; }
input { font: inherit; padding: .6rem .75rem; border: 1px solid var(--muted); border-radius: 8px; background: var(--bg); color: var(--fg); }
button { font: inherit; font-weight: 600; padding: .65rem 1rem; border: 0; border-radius: 8px; background: var(--accent); color: var(--card); cursor: pointer; }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
`;

export function page(title: string, nonce: string, body: HtmlEscapedString | Promise<HtmlEscapedString>) {
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
