import { existsSync } from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { client, connectSandbox, newUser, PASSWORD, waitForEmail } from "./support";

// Pages a person sees, in a real headless Chromium (Debian's `chromium`; CHROMIUM_PATH to use
// another): they render, log no console errors (a CSP violation is one), and load nothing from
// another origin.
const base = inject("baseUrl");
const executablePath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(executablePath)) {
    throw new Error(`no Chromium at ${executablePath}: apt-get install chromium (or set CHROMIUM_PATH)`);
  }
  browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
});
afterAll(async () => {
  await browser?.close();
});

async function visit(url: string, settle: (page: Page) => Promise<void>) {
  const page = await browser.newPage();
  const problems: string[] = [];
  const foreign: string[] = [];
  const origin = new URL(base).origin;
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(m.text());
  });
  page.on("pageerror", (e) => problems.push(String(e)));
  page.on("request", (r) => {
    const u = new URL(r.url());
    if (u.protocol.startsWith("http") && u.origin !== origin) foreign.push(r.url());
  });
  const response = await page.goto(url, { waitUntil: "load" });
  await settle(page);
  return { page, response, problems, foreign };
}

describe("pages in a real browser", () => {
  it("/docs renders the API reference from this origin alone", async () => {
    const { page, problems, foreign } = await visit(`${base}/docs`, async (p) => {
      await p.getByRole("heading", { name: "Ledgerlink API" }).waitFor({ timeout: 15_000 });
    });
    expect(await page.title()).toBe("Ledgerlink API reference");
    expect(await page.locator("body").textContent()).toMatch(/Identity[\s\S]*Connections/);
    expect(problems).toEqual([]);
    expect(foreign).toEqual([]);
  });

  it("/docs teaches, and offers no button that leads to an outside service", async () => {
    const { page, problems } = await visit(`${base}/docs`, async (p) => {
      // The description's narrative, and the sidebar's footer (where "Powered by Scalar" and
      // "Generate SDKs & MCP" would be): the page has rendered what it would show.
      await p.getByRole("heading", { name: "Getting started" }).waitFor({ timeout: 15_000 });
      await p.locator(".darklight-reference").waitFor();
    });
    await page.getByRole("link", { name: "GET /api/v1/providers" }).waitFor();
    // What Scalar shows on a local origin unless configured off (src/routes/docs.ts), by visible text.
    const outside =
      /^(Ask AI|Generate SDKs?\b.*|Generate MCP|Connect MCP|Developer Tools|Configure|Share|Deploy|Open API Client|Open in .+|Powered by Scalar)$/;
    const labels = (await page.locator("button:visible, a:visible").allInnerTexts()).map((t) =>
      t.trim().replace(/\s+/g, " "),
    );
    expect(labels.filter((label) => outside.test(label))).toEqual([]);
    expect(problems).toEqual([]);
  });

  it("the connect hand-off page renders, styled, with no error and nothing from elsewhere", async () => {
    const token = await newUser(base, "handoff-page");
    const { location } = await connectSandbox(base, token);
    const { page, response, problems, foreign } = await visit(location, async (p) => {
      await p.getByRole("heading", { name: "Almost done" }).waitFor();
    });
    expect(response?.status()).toBe(200);
    expect(await page.locator("main").textContent()).toMatch(/Return to the app you started from/);
    // The nonce'd stylesheet applied (a CSP refusal would leave the default white page).
    const radius = await page.locator("main").evaluate((m) => getComputedStyle(m).borderRadius);
    expect(radius).toBe("12px");
    expect(problems).toEqual([]);
    expect(foreign).toEqual([]);
  });

  it("a stale or forged hand-off says so plainly", async () => {
    const { page, response, problems } = await visit(
      `${base}/api/v1/connections/callback?state=forged&code=x`,
      async (p) => {
        await p.getByRole("heading", { name: "Not connected" }).waitFor();
      },
    );
    expect(response?.status()).toBe(400);
    expect(await page.locator("main").textContent()).toMatch(/Start connecting again/);
    // The page's own answer (400) is the only thing Chromium reports.
    expect(problems.filter((p) => !/status of 400/.test(p))).toEqual([]);
  });

  it("development serves the pages emailed links lead to: verify, forgot and reset work end to end", async () => {
    const { send } = client(base);
    const email = `pages.${Date.now().toString(36)}@example.com`;
    await send("/api/v1/auth/register", { method: "POST", json: { email, password: PASSWORD, name: "Pages" } });
    const link = (await waitForEmail(base, email, /confirm/i)).text.match(/https?:\/\/\S+verify-email\?token=\S+/)?.[0];
    expect(link?.startsWith(`${base}/verify-email?token=`)).toBe(true);
    const verified = await visit(link as string, async (p) => {
      await p.getByText("Your email address is confirmed").waitFor();
    });
    expect(verified.problems).toEqual([]);
    expect(verified.foreign).toEqual([]);
    const forgot = await visit(`${base}/forgot-password`, async (p) => {
      await p.getByLabel("Email address").fill(email);
      await p.getByRole("button", { name: "Send me a link" }).click();
      await p.getByText("a link is on its way").waitFor();
    });
    expect(forgot.problems).toEqual([]);
    const reset = (await waitForEmail(base, email, /reset/i)).text.match(
      /https?:\/\/\S+reset-password\?token=\S+/,
    )?.[0];
    const NEW = "Fresh-Heron-77?";
    const done = await visit(reset as string, async (p) => {
      await p.getByLabel("New password").fill(NEW);
      await p.getByRole("button", { name: "Set password" }).click();
      await p.getByText("Your password is changed").waitFor();
    });
    expect(done.problems).toEqual([]);
    const login = await send("/api/v1/auth/login", { method: "POST", json: { email, password: NEW } });
    expect(login.status).toBe(200);
  });
});
