import { insertAudit } from "../../db/audit";
import { findUserById, type UserRow } from "../../db/users";
import { notFound } from "../../errors";
import { accountView, holdingView, transactionView } from "../../home/ledger/views";
import { listConnections } from "../connections/manage";
import { auditContext, type RequestMeta, type ServiceDeps } from "../context";
import { listSessions } from "../sessions";
import type { Factor } from "./mfa";
import { securityEvents } from "./security-events";
import { stepUp } from "./step-up";
import { toPublicUser, withCurrentRole } from "./users";

export const EXPORT_VERSION = 1;
/** Rows fetched per call to the user's home (and per security-log page). */
const PAGE = 1000;

type Record = { type: string; data: unknown };

type Auth = { userId: string; sessionId: string };

async function* records(deps: ServiceDeps, auth: Auth, user: UserRow): AsyncGenerator<Record[]> {
  const { userId } = auth;
  yield [
    { type: "export", data: { version: EXPORT_VERSION, generated_at: deps.now().toISOString() } },
    { type: "user", data: withCurrentRole(deps.config, toPublicUser(user)) },
  ];
  yield (await listSessions(deps, userId, auth.sessionId)).map((data) => ({ type: "session", data }));
  for (let cursor: string | undefined, more = true; more; ) {
    const page = await securityEvents(deps, userId, PAGE, cursor);
    yield page.events.map((data) => ({ type: "security_event", data }));
    cursor = page.next_cursor ?? undefined;
    more = cursor !== undefined;
  }
  yield (await listConnections(deps, userId)).map((data) => ({ type: "connection", data }));

  const { accounts } = await deps.homes.read(userId, { kind: "accounts" });
  yield accounts.map((a) => ({ type: "account", data: accountView(a.account, a.lastSyncedAt) }));
  for (const a of accounts) {
    const { holdings } = await deps.homes.read(userId, { kind: "holdings", accountId: a.account.id });
    yield holdings.map((h) => ({ type: "holding", data: holdingView(h, a.account, a.lastSyncedAt) }));
  }
  for (const a of accounts) {
    let after: { at: number; id: string } | undefined;
    for (;;) {
      const answer = await deps.homes.read(userId, {
        kind: "transactions",
        accountId: a.account.id,
        limit: PAGE,
        after,
      });
      yield answer.transactions.map((t) => ({ type: "transaction", data: transactionView(t) }));
      const last = answer.transactions.at(-1);
      if (answer.transactions.length < PAGE || !last) break;
      after = { at: last.date.getTime(), id: last.id };
    }
  }
  for (const a of accounts) {
    let afterDay: string | undefined;
    for (;;) {
      const answer = await deps.homes.read(userId, {
        kind: "balances",
        accountId: a.account.id,
        afterDay,
        limit: PAGE,
      });
      const { balances } = JSON.parse(answer.page) as { balances: { date: string }[] };
      yield balances.map((b) => ({ type: "balance", data: { account_id: a.account.id, ...b } }));
      const last = balances.at(-1);
      if (balances.length < PAGE || !last) break;
      afterDay = last.date;
    }
  }
}

/**
 * The export as a byte stream: each page becomes lines when the client asks for more. The user
 * is looked up first, so a missing one is a proper 404 rather than a broken stream.
 */
export async function exportAccount(
  deps: ServiceDeps,
  meta: RequestMeta,
  auth: Auth,
  proof: { password: string } & Factor,
): Promise<ReadableStream<Uint8Array>> {
  const user = await findUserById(deps.db, auth.userId);
  if (!user) throw notFound("user");
  // A complete dump (the security log included) needs the password, and a code with MFA on: a
  // stolen access token alone cannot take it (docs/security.md, second pass item 6).
  const { factor } = await stepUp(deps, meta, auth, user, proof, "auth.account_exported");
  await insertAudit(deps.db, {
    ...auditContext(meta),
    occurredAt: deps.now(),
    action: "auth.account_exported",
    outcome: "success",
    userId: user.id,
    sessionId: auth.sessionId,
    details: { mfa: factor?.method ?? null },
  });
  const encoder = new TextEncoder();
  const source = records(deps, auth, user);
  let count = 0;
  let ended = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (ended) return controller.close();
      try {
        // A pull must enqueue something (or end): a stream whose pull settles with nothing queued
        // is not pulled again, and the download would hang on an empty page.
        for (;;) {
          const next = await source.next();
          if (next.done) {
            ended = true;
            controller.enqueue(encoder.encode(`${JSON.stringify({ type: "end", data: { records: count } })}\n`));
            return;
          }
          count += next.value.length;
          if (next.value.length > 0) {
            controller.enqueue(encoder.encode(next.value.map((r) => `${JSON.stringify(r)}\n`).join("")));
            return;
          }
        }
      } catch (err) {
        // Mid-stream the status is already 200: the stream errors and the missing end line says so.
        deps.logger.error("export failed mid-stream", { error: String(err) });
        controller.error(err);
      }
    },
    async cancel() {
      await source.return(undefined);
    },
  });
}
