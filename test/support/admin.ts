import { env } from "cloudflare:workers";
import { loggedIn } from "./identity";

/** A logged-in administrator (promoted in D1, as an operator would bootstrap one). */
export async function loggedInAdmin(tag = "admin") {
  const admin = await loggedIn(tag);
  await env.DB.prepare("UPDATE users SET role = 'admin' WHERE email = ?").bind(admin.email).run();
  return admin;
}
