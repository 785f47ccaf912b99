import { describe, expect, inject, it } from "vitest";
import { client, newUser } from "./support";

// How `npm run dev` plans its wrangler dev, and the real script on a port of the user's choice:
// dev-script.node.test.ts (no suite server needed).
const base = inject("baseUrl");

describe("npm run dev", () => {
  it("serves development settings from the env file, any variable of the README's table included", async () => {
    // The suite's server reads its settings the way `npm run dev` reads .dev.vars (wrangler loads
    // every entry, since wrangler.toml declares no [secrets]); ADMIN_EMAILS is set there.
    const token = await newUser(base, "e2e-admin", "admin@e2e.ledgerlink.test");
    const res = await client(base).send("/api/v1/admin/users?limit=1", { token });
    expect(res.status).toBe(200);
    const health = (await (await fetch(`${base}/health`)).json()) as { environment: string };
    expect(health.environment).toBe("development");
  });
});
