import { Hono } from "hono";
import { notFound } from "../errors";
import type { AppEnv } from "../http/app-env";
import { sandboxRootFor } from "../providers/sandbox-host";

/**
 * The sandbox provider's HTTP surface at /sandbox (docs/contract.md "The sandbox provider"): the very app
 * the sandbox adapter calls in-process, so a browser's authorize step and the server's token
 * calls meet the same simulator. Absent (404) in production.
 */
export const sandboxRoutes = new Hono<AppEnv>().all("*", (c) => {
  const root = sandboxRootFor(c.get("config"));
  if (!root) throw notFound("route");
  return root.fetch(c.req.raw);
});
