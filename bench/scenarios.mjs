// Benchmark scenarios. `setup(url, connections)` returns autocannon options for the scenario
// (path, method, headers, body, or `requests` for chained calls). `baseline: true` marks the
// bare route every other scenario's throughput is compared with.
import { session, verifiedUser } from "./identity.mjs";

export const scenarios = [
  { name: "GET /health (bare route)", baseline: true, setup: () => ({ path: "/health" }) },
  { name: "GET /health/ready (D1 + Gate)", setup: () => ({ path: "/health/ready" }) },
  {
    name: "GET /api/v1/auth/me (JWT + Gate + D1 read)",
    serverTiming: "gate",
    setup: async (url) => {
      const s = await session(url);
      return { path: "/api/v1/auth/me", headers: { Authorization: `Bearer ${s.tokens.access_token}` } };
    },
  },
  {
    name: "GET /api/v1/auth/sessions (JWT + Gate + D1 read)",
    setup: async (url) => {
      const s = await session(url);
      return { path: "/api/v1/auth/sessions", headers: { Authorization: `Bearer ${s.tokens.access_token}` } };
    },
  },
  {
    name: "POST /api/v1/auth/login at its per-IP limit (mostly 429 from the Gate)",
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
