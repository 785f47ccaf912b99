import { newId } from "../../src/crypto/random";
import { insertUser } from "../../src/db/users";
import { newSession, tokenResponse } from "../../src/services/identity/tokens";
import { testDeps } from "./deps";
import { type Tokens, uniqueEmail } from "./identity";

let n = 0;

/**
 * A logged-in user without the login flow: a verified user and a live session inserted into the
 * real D1 (the user's home is created on their first request, as in production), with tokens
 * signed by the Worker's own keys. For tests about what a logged-in user can do; the identity
 * suites keep going through register → verify → login.
 */
export async function seededSession(tag = "seeded", options: { role?: "user" | "admin"; email?: string } = {}) {
  const deps = await testDeps();
  const now = deps.now();
  const email = options.email ?? uniqueEmail(tag);
  const user = {
    id: newId("usr"),
    email,
    name: `Seeded ${++n}`,
    passwordHash: await deps.passwords.hashPassword("Tr1cky-Bison-42!"),
    emailVerifiedAt: now,
    role: options.role ?? "user",
    tokenVersion: 0,
    mfaEnabled: false,
    mfaTotpSecretEnc: null,
    mfaTotpLastStep: null,
    disabledAt: null,
    createdAt: now,
    updatedAt: now,
  } as const;
  const meta = {
    requestId: "seed",
    traceId: "0af7651916cd43dd8448eb211c80319c",
    method: "POST",
    path: "/seed",
    ip: null,
    clientKey: "seed",
    userAgent: null,
    location: null,
  };
  const { session, refreshToken, inserts } = await newSession(deps.db, deps.config, meta, user, now);
  await deps.db.batch([insertUser(deps.db, user), ...inserts]);
  const tokens = (await tokenResponse(deps.config, user, session.id, refreshToken, now)) as unknown as Tokens;
  return { email, tokens };
}
