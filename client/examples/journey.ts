/**
 * `npm run client:example` (BASE_URL, default http://localhost:8787, against `npm run dev`): a
 * whole integrator journey with the typed client. Register, verify the address through the
 * development outbox, log in, connect a sandbox bank (consent and hand-off as a browser would)
 * and a sandbox SimpleFIN bridge (a setup token), sync, read accounts and the change feed, log out. Prints each step; exits 1 on any failure.
 */
import { createLedgerlink, LedgerlinkError } from "../src/index.ts";

const baseUrl = (process.env.BASE_URL ?? "http://localhost:8787").replace(/\/$/, "");
const client = createLedgerlink({ baseUrl });
const { api, ok } = client;
const step = (text: string) => console.log(`✓ ${text}`);

async function main() {
  const tag = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const email = `journey.${tag}@example.com`;
  const password = "Tr1cky-Bison-42!";

  await ok(api.POST("/api/v1/auth/register", { body: { email, password, name: "Journey" } }));
  step(`registered ${email}`);

  // Development only: the email the API would have sent, read from its outbox.
  let token: string | undefined;
  for (let i = 0; i < 100 && !token; i++) {
    const { messages } = await ok(api.GET("/api/v1/dev/outbox", { params: { query: { to: email } } }));
    token = /token=([A-Za-z0-9_%-]+)/.exec(messages[0]?.text ?? "")?.[1];
    if (!token) await new Promise((r) => setTimeout(r, 100));
  }
  if (!token) throw new Error("no verification email arrived");
  await ok(api.POST("/api/v1/auth/verify-email", { body: { token: decodeURIComponent(token) } }));
  step("verified the address from the emailed link");

  const login = await client.login(email, password);
  if ("mfa_required" in login) throw new Error("unexpected MFA");
  step(`logged in as ${login.user.id}`);

  // A bank (GoCardless, a bank consent): pick it from the catalogue, consent at the bank.
  const { institutions } = await ok(
    api.GET("/api/v1/institutions", { params: { query: { provider: "sandbox_gocardless", q: "sandbox" } } }),
  );
  const bank = institutions[0];
  if (!bank) throw new Error("the sandbox bank is not in the catalogue");
  const connect = await client.connect({
    provider: "sandbox_gocardless",
    institution_id: bank.id,
    login: `journey-${tag}`,
  });
  if (!connect.authorizationUrl) throw new Error("a bank consent answered no authorization URL");
  // What the user's browser does: the bank's consent page redirects back to the API's
  // callback, which hands {state, code} to the app (here asked for as JSON).
  const consent = await fetch(connect.authorizationUrl, { redirect: "manual" });
  const back = consent.headers.get("Location");
  if (!back) throw new Error(`the consent page answered ${consent.status} without a redirect`);
  const handOff = (await (await fetch(back, { headers: { Accept: "application/json" } })).json()) as {
    state: string;
    code?: string;
  };
  const { connection } = await connect.complete(handOff);
  step(
    `connected ${bank.name} (${connection.id}, ${connection.status}, consent until ${connection.consent_expires_at})`,
  );

  const run = await client.syncNow(connection.id);
  if (run.status !== "succeeded") throw new Error(`sync ${run.status}: ${run.error?.message}`);
  step(`synced: ${run.stats?.accounts_added} accounts, ${run.stats?.transactions_added} transactions`);

  // A simulated day later (the sandboxes' clock; development only), US banks and cards
  // (SimpleFIN, a setup token the person pastes; here the sandbox bridge's).
  const day0 = new Date().toISOString().slice(0, 10);
  await ok(api.POST("/api/v1/dev/sandbox/clock", { body: { advance_seconds: 86_400 } }));
  try {
    const { setup_token } = await ok(api.POST("/api/v1/dev/sandbox/simplefin/setup-token", { body: {} }));
    const cards = await client.connect({ provider: "sandbox_simplefin", setup_token });
    step(`connected a SimpleFIN bridge (${cards.connection.id}, ${cards.connection.status}, no redirect)`);
    const cardsRun = await client.syncNow(cards.connection.id);
    if (cardsRun.status !== "succeeded") throw new Error(`sync ${cardsRun.status}: ${cardsRun.error?.message}`);
    const day1 = new Date(Date.parse(`${day0}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);

    // Net worth per currency over the two days (never added across currencies); `*` marks a
    // balance carried forward from an earlier day.
    const worth = await ok(
      api.GET("/api/v1/net-worth", { params: { query: { from: day0, to: day1, interval: "day" } } }),
    );
    console.log("  net worth     date        assets      liabilities        net");
    for (const { currency, points } of worth.currencies) {
      for (const p of points) {
        const row = [currency.padEnd(4), p.date, p.assets.padStart(12), p.liabilities.padStart(14), p.net.padStart(12)];
        console.log(`  ${row.join("  ")}${p.carried_forward ? " *" : ""}`);
      }
    }
    step(`net worth over two simulated days in ${worth.currencies.map((c) => c.currency).join(", ")}`);
  } finally {
    await ok(api.POST("/api/v1/dev/sandbox/clock", { body: { reset: true } }));
  }

  const { accounts } = await ok(api.GET("/api/v1/accounts"));
  for (const a of accounts) step(`${a.classification} ${a.type} ${a.name}: ${a.balances.current} ${a.currency}`);

  let seen = 0;
  let cursor = "";
  for await (const page of client.changes()) {
    seen += page.added.length;
    cursor = page.next_cursor;
  }
  step(`read the change feed: ${seen} transactions; next time ask from ${cursor.slice(0, 12)}…`);

  const held = await client.session.get();
  await client.logout();
  const after = await fetch(`${baseUrl}/api/v1/auth/me`, { headers: { Authorization: `Bearer ${held?.accessToken}` } });
  if (after.status !== 401) throw new Error(`after logout the old access token still answered ${after.status}`);
  step("logged out: the session's access token no longer works");
}

main().catch((err) => {
  if (err instanceof LedgerlinkError) console.error(`✗ ${err.status} ${err.code}: ${err.problem?.detail ?? ""}`);
  else console.error(`✗ ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
