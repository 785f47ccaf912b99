import { describe, expect, inject, it } from "vitest";
// @ts-expect-error: plain ESM helper shared with `npm run dev`.
import { devPlan } from "../../scripts/lib/local.mjs";
import { client, newUser } from "./support";

const base = inject("baseUrl");

describe("npm run dev", () => {
  it("passes extra arguments through to wrangler dev", () => {
    const { args } = devPlan({ argv: ["--var", "ADMIN_EMAILS:me@example.com"] });
    expect(args.slice(-2)).toEqual(["--var", "ADMIN_EMAILS:me@example.com"]);
  });

  it("derives APP_BASE_URL from PORT unless it is set", () => {
    const plan = devPlan({ env: { PORT: "8795" } });
    expect(plan.port).toBe(8795);
    expect(plan.args).toEqual(
      expect.arrayContaining(["--port", "8795", "--var", "APP_BASE_URL:http://localhost:8795"]),
    );
    const set = devPlan({ env: { PORT: "8795", APP_BASE_URL: "https://tunnel.example" } });
    expect(set.args.join(" ")).not.toContain("APP_BASE_URL");
    const inDevVars = devPlan({ env: { PORT: "8795" }, devVarsKeys: new Set(["APP_BASE_URL"]) });
    expect(inDevVars.args.join(" ")).not.toContain("APP_BASE_URL");
    expect(() => devPlan({ env: { PORT: "http" } })).toThrow(/PORT/);
  });

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
