// Benchmark scenarios. Each has a name, and either a request or a `setup(url)` that returns
// one (for scenarios that need a logged-in user). `baseline: true` marks the bare route every
// other scenario's throughput is compared with.
export const scenarios = [
  { name: "GET /health (bare route)", baseline: true, request: { method: "GET", path: "/health" } },
  { name: "GET /health/ready (D1 + Gate)", request: { method: "GET", path: "/health/ready" } },
];
