/**
 * The simulated consent page, `GET /psd2/start/<requisitionId>/<institution>`: the bank consents
 * at once and sends the browser to the requisition's `redirect` with `?ref=<reference>` (or
 * `&error=…&details=…` under `consent_rejected`). A link works once.
 */
import { Hono } from "hono";
import type { GoCardlessContext, RequisitionClaims } from "./context";

const page = (title: string, text: string) =>
  `<!doctype html><html><head><title>${title}</title></head><body><h1>${title}</h1><p>${text}</p></body></html>`;

/** The `/psd2` routes. */
export function consentRoutes(ctx: GoCardlessContext) {
  const app = new Hono();
  app.get("/start/:id/:institution", async (c) => {
    const r = await ctx.signer.readId<RequisitionClaims>("gc-requisition", c.req.param("id"));
    if (!r || r.i !== c.req.param("institution")) {
      return c.html(page("Link not found", "This link is not valid."), 404);
    }
    if (ctx.visits.get(r.n) !== undefined) {
      return c.html(page("Link already used", "This link has already been used. Please start again."), 400);
    }
    const now = ctx.now();
    ctx.visits.set(r.n, now);
    const redirect = new URL(r.r);
    redirect.searchParams.set("ref", r.f);
    if (r.x === "consent_rejected") {
      redirect.searchParams.set("error", "UserCancelledSessionError");
      redirect.searchParams.set("details", "The user cancelled the session at the bank.");
    } else if (r.m !== null) {
      ctx.accepted.set(r.m, { at: now, accessDays: r.a });
    }
    return c.redirect(redirect.toString(), 302);
  });
  return app;
}
