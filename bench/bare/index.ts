// The yardstick for `npm run bench`: a bare Hono Worker (one route, no middleware, no bindings)
// served by the same wrangler in the same run. Every scenario is reported as a ratio to it.
import { Hono } from "hono";

export default new Hono().get("/", (c) => c.json({ status: "ok" }));
