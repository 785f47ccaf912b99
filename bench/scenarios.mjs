// Benchmark scenarios. `setup(url, connections)` returns autocannon options for the scenario
// (path, method, headers, body, or `requests` for chained calls). `bare: true` marks the bare
// Hono Worker (bench/bare/) every scenario's throughput is divided by; `bare: "hop"` the same
// Worker plus one Durable Object RPC (bench/bare/hop.ts), the floor of any read of a user's home.
import { session, syncedSession, verifiedUser } from "./identity.mjs";

const bearer = (s) => ({ Authorization: `Bearer ${s.tokens.access_token}` });

export const scenarios = [
  { name: "bare Hono Worker (same wrangler, same run)", bare: true, setup: () => ({ path: "/" }) },
  {
    name: "the bare Worker + one Durable Object RPC reading one SQLite row (the floor of one hop)",
    bare: "hop",
    setup: () => ({ path: "/" }),
  },
  { name: "GET /health (the API's cheapest route)", setup: () => ({ path: "/health" }) },
  { name: "GET /health/ready (D1, homes, Limiter, queues, outcomes)", setup: () => ({ path: "/health/ready" }) },
  {
    name: "GET /api/v1/auth/me (JWT + one call to the user's home)",
    serverTiming: "home",
    setup: async (url) => {
      const s = await session(url);
      return { path: "/api/v1/auth/me", headers: bearer(s) };
    },
  },
  {
    name: "GET /api/v1/accounts (JWT + one call to the user's home)",
    serverTiming: "home",
    setup: async (url) => {
      const s = await syncedSession(url);
      return { path: "/api/v1/accounts", headers: bearer(s) };
    },
  },
  {
    name: "GET /api/v1/accounts/{id}/transactions (a page of 50)",
    setup: async (url) => {
      const s = await syncedSession(url);
      const busiest = s.accounts.find((a) => a.type !== "cash") ?? s.accounts[0];
      return { path: `/api/v1/accounts/${busiest.id}/transactions?limit=50`, headers: bearer(s) };
    },
  },
  {
    name: "GET /api/v1/transactions/sync (the change feed, 100 per page)",
    setup: async (url) => {
      const s = await syncedSession(url);
      return { path: "/api/v1/transactions/sync?count=100", headers: bearer(s) };
    },
  },
  {
    name: "GET /api/v1/auth/sessions (JWT + home + D1 read)",
    setup: async (url) => {
      const s = await session(url);
      return { path: "/api/v1/auth/sessions", headers: bearer(s) };
    },
  },
  {
    name: "POST /api/v1/auth/login at its per-IP limit (mostly 429 from the Limiter)",
    setup: async () => ({
      path: "/api/v1/auth/login",
      method: "POST",
      headers: { "Content-Type": "application/json", "CF-Connecting-IP": "198.18.255.1" },
      body: JSON.stringify({ email: "nobody@example.com", password: "Tr1cky-Bison-42!" }),
    }),
  },
  {
    name: "POST /api/v1/auth/login, 1 connection (= hashing cost per login)",
    connections: 1,
    setup: async (url) => {
      const u = await verifiedUser(url);
      let i = 0;
      return {
        path: "/api/v1/auth/login",
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ email: u.email, password: u.password }),
        // A new client IP per request keeps the per-IP login limit out of a cost measurement.
        requests: [
          {
            setupRequest: (req) => ({
              ...req,
              headers: { ...req.headers, "CF-Connecting-IP": `198.19.${(++i >> 8) & 255}.${i & 255}` },
            }),
          },
        ],
      };
    },
  },
  {
    name: "POST /api/v1/auth/refresh (rotation, one chain per connection)",
    setup: async (url, connections) => {
      // One rotation chain per connection: a request takes a free chain, presents its current
      // refresh token, and the answer's successor becomes the chain's next token. (autocannon
      // resets its per-request context, so the chains live here.)
      const chains = [];
      for (let i = 0; i < connections; i++)
        chains.push({ token: (await session(url)).tokens.refresh_token, busy: false });
      return {
        path: "/api/v1/auth/refresh",
        method: "POST",
        headers: { "Content-Type": "application/json" },
        requests: [
          {
            setupRequest: (req, context) => {
              const chain = chains.find((c) => !c.busy) ?? chains[0];
              chain.busy = true;
              context.chain = chain;
              return { ...req, body: JSON.stringify({ refresh_token: chain.token }) };
            },
            onResponse: (status, body, context) => {
              if (status === 200) context.chain.token = JSON.parse(body).refresh_token;
              context.chain.busy = false;
            },
          },
        ],
      };
    },
  },
];
