import { createRoute, z } from "@hono/zod-openapi";
import { createRouter, jsonContent, problems } from "../http/openapi";
import { publicJwks } from "../services/access-tokens";

const Jwks = z
  .object({
    keys: z.array(
      z.object({
        kty: z.string(),
        crv: z.string(),
        x: z.string(),
        y: z.string(),
        kid: z.string(),
        alg: z.string(),
        use: z.string(),
      }),
    ),
  })
  .openapi("JWKS");

const jwks = createRoute({
  operationId: "getJwks",
  security: [],
  method: "get",
  path: "/jwks.json",
  tags: ["System"],
  summary: "Public keys that verify access tokens (RFC 7517). Private parts are never published.",
  responses: { 200: jsonContent(Jwks, "The key set."), ...problems() },
});

export const wellKnownRoutes = createRouter().openapi(jwks, (c) => {
  // Short cache: a rotated-in key must reach verifiers before tokens signed by it do.
  c.header("Cache-Control", "public, max-age=300");
  return c.json(publicJwks(c.get("config")) as z.infer<typeof Jwks>, 200);
});
