// The floor of one hop for `npm run bench`: the bare Hono Worker plus what any read of a user's
// own data cannot avoid, one RPC to a SQLite-backed Durable Object that reads one row. The API's
// authenticated reads make exactly this one call (to the user's home), so this is the best they
// could do in this runtime; every scenario is also reported as a ratio to it.
import { DurableObject } from "cloudflare:workers";
import { Hono } from "hono";

export class Home extends DurableObject {
  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env as never);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v TEXT)");
    ctx.storage.sql.exec("INSERT OR IGNORE INTO kv VALUES ('profile', 'Bench')");
  }

  read(key: string): { v: string } | null {
    return this.ctx.storage.sql.exec<{ v: string }>("SELECT v FROM kv WHERE k = ?", key).toArray()[0] ?? null;
  }
}

type Bindings = { HOME: DurableObjectNamespace<Home> };

export default new Hono<{ Bindings: Bindings }>().get("/", async (c) =>
  c.json({ status: "ok", row: await c.env.HOME.getByName("user:bench").read("profile") }),
);
