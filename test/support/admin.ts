import { seededSession } from "./seed";

/** A logged-in administrator (seeded with role admin, as an operator would bootstrap one). */
export const loggedInAdmin = (tag = "admin") => seededSession(tag, { role: "admin" });
