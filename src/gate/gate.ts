import { DurableObject } from "cloudflare:workers";
import { type Bucket, type Decision, take } from "./bucket";
import { CLOSE_SESSION_REVOKED, EVENTS_PROTOCOL, type LiveEvent, liveEvent } from "./events";
import type { Rule } from "./rules";

/** A rate-limit check: which rule, its bucket parameters, and an optional sub-key. */
export interface LimitRequest {
  name: string;
  rule: Rule;
  /** Distinguishes buckets of one rule within a subject (e.g. a session id). */
  key?: string;
}

export interface LimitAnswer extends Decision {
  name: string;
  rule: Rule;
  /** True for the first refusal after the bucket last allowed a request (audit once per burst). */
  firstDenial: boolean;
}

export interface AuthorizeAnswer {
  revoked: boolean;
  versionOk: boolean;
  rate: LimitAnswer | null;
  /** The session's last activity is over a minute old in D1: worth one write. */
  touch: boolean;
}

/** The global rotation state held by the `global` Gate. */
export interface GlobalRotation {
  version: number;
  /** Access tokens issued (iat, ms) before this are refused. */
  notBefore: number;
}

const GLOBAL_CACHE_MS = 60_000; // API.md: global rotation reaches access tokens within 60 s.
const TOUCH_EVERY_MS = 60_000;

/**
 * The Gate: one Durable Object per subject (`user:<id>`, `ip:<addr>`, `email:<sha256>`, and
 * `global`), the single owner of that subject's token buckets, revoked sessions and minimum
 * token version (ARCHITECTURE.md §2, §4). Single-threaded, so every bucket decision is exact.
 * Buckets live in memory (losing them fails open); revocations and versions persist in SQLite.
 */
export class Gate extends DurableObject<Env> {
  private buckets = new Map<string, Bucket & { denied: boolean }>();
  private revoked = new Map<string, number>();
  private minVersion = 0;
  private global: { value: GlobalRotation; fetchedAt: number } | null = null;
  private touched = new Map<string, number>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      this.ctx.storage.sql.exec(
        "CREATE TABLE IF NOT EXISTS revoked_sessions (session_id TEXT PRIMARY KEY, until INTEGER NOT NULL)",
      );
      for (const row of this.ctx.storage.sql.exec<{ session_id: string; until: number }>(
        "SELECT session_id, until FROM revoked_sessions",
      )) {
        this.revoked.set(row.session_id, row.until);
      }
      this.minVersion = this.ctx.storage.kv.get<number>("min_version") ?? 0;
    });
  }

  /** Liveness probe used by /health/ready. */
  async ping(): Promise<{ ok: true }> {
    return { ok: true };
  }

  /** Takes one token from a bucket of this subject. */
  limit(req: LimitRequest, now = Date.now()): LimitAnswer {
    const id = req.key ? `${req.name}:${req.key}` : req.name;
    const prev = this.buckets.get(id);
    const { bucket, decision } = take(req.rule, prev, now);
    const firstDenial = !decision.allowed && !prev?.denied;
    this.buckets.set(id, { ...bucket, denied: !decision.allowed });
    return { ...decision, name: req.name, rule: req.rule, firstDenial };
  }

  /**
   * The one call an authenticated request makes: is the session revoked, is the token version
   * (per-user, and the global rotation) still valid, and may the request pass its rate limit.
   */
  async authorize(input: {
    sessionId: string;
    tokenVersion: number;
    issuedAtMs: number;
    limit?: LimitRequest;
  }): Promise<AuthorizeAnswer> {
    const now = Date.now();
    const revoked = (this.revoked.get(input.sessionId) ?? 0) > now;
    const global = await this.globalRotation(now);
    const versionOk = input.tokenVersion >= this.minVersion && input.issuedAtMs >= global.notBefore;
    const rate = input.limit && !revoked && versionOk ? this.limit(input.limit, now) : null;
    const last = this.touched.get(input.sessionId) ?? 0;
    const touch = !revoked && now - last >= TOUCH_EVERY_MS;
    if (touch) this.touched.set(input.sessionId, now);
    return { revoked, versionOk, rate, touch };
  }

  /**
   * Accepts a live-events WebSocket for an already authenticated session (the Worker checked
   * the token and passes the session id). Hibernatable: an idle socket costs no duration.
   */
  override async fetch(request: Request): Promise<Response> {
    const sessionId = request.headers.get("X-Ledgerlink-Session");
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket" || !sessionId) {
      return new Response("expected a WebSocket upgrade", { status: 426 });
    }
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server, [sessionId]);
    return new Response(null, {
      status: 101,
      webSocket: client,
      headers: { "Sec-WebSocket-Protocol": EVENTS_PROTOCOL },
    });
  }

  /** Sends an event to every open socket of this user (or of one session). */
  publish(event: LiveEvent, sessionId?: string): number {
    const sockets = this.ctx.getWebSockets(sessionId);
    const text = JSON.stringify(event);
    for (const ws of sockets) {
      try {
        ws.send(text);
      } catch {
        // A socket closing concurrently is not an error worth surfacing.
      }
    }
    return sockets.length;
  }

  /** Clients may ping; everything else they send is ignored (the stream is one-way). */
  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    if (message === "ping") ws.send("pong");
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    try {
      // Complete the closing handshake (RFC 6455 §5.5.1); 1005 "no status" may not be sent back.
      ws.close(code === 1005 ? 1000 : code, "bye");
    } catch {}
  }

  /** Refuses these sessions' access tokens until `untilMs` (when they could no longer be valid). */
  revokeSessions(sessionIds: string[], untilMs: number): void {
    for (const id of sessionIds) {
      // Their live sockets hear why, then close.
      for (const ws of this.ctx.getWebSockets(id)) {
        try {
          ws.send(JSON.stringify(liveEvent("session.revoked", { session_id: id })));
          ws.close(CLOSE_SESSION_REVOKED, "session revoked");
        } catch {}
      }
      const until = Math.max(untilMs, this.revoked.get(id) ?? 0);
      this.revoked.set(id, until);
      this.ctx.storage.sql.exec(
        "INSERT INTO revoked_sessions (session_id, until) VALUES (?, ?) ON CONFLICT(session_id) DO UPDATE SET until = excluded.until",
        id,
        until,
      );
    }
    this.scheduleCleanup();
  }

  /** Raises the minimum token version (never lowers it, so a late message cannot undo a rotation). */
  setMinTokenVersion(version: number): number {
    this.minVersion = Math.max(this.minVersion, version);
    this.ctx.storage.kv.put("min_version", this.minVersion);
    return this.minVersion;
  }

  /** On the `global` Gate: starts a global rotation now. */
  rotateGlobal(now = Date.now()): GlobalRotation {
    const current = this.ctx.storage.kv.get<GlobalRotation>("global") ?? { version: 0, notBefore: 0 };
    const next = { version: current.version + 1, notBefore: now };
    this.ctx.storage.kv.put("global", next);
    return next;
  }

  /** On the `global` Gate: the current global rotation. */
  readGlobal(): GlobalRotation {
    return this.ctx.storage.kv.get<GlobalRotation>("global") ?? { version: 0, notBefore: 0 };
  }

  // Each user Gate asks the global one at most once a minute.
  private async globalRotation(now: number): Promise<GlobalRotation> {
    if (this.global && now - this.global.fetchedAt < GLOBAL_CACHE_MS) return this.global.value;
    const stub = this.env.GATE.get(this.env.GATE.idFromName("global"));
    const value = await stub.readGlobal();
    this.global = { value, fetchedAt: now };
    return value;
  }

  private scheduleCleanup() {
    const earliest = Math.min(...this.revoked.values());
    if (Number.isFinite(earliest)) void this.ctx.storage.setAlarm(earliest + 1000);
  }

  /** Forgets revocations whose access tokens have expired anyway (alarms are at-least-once). */
  override async alarm(): Promise<void> {
    const now = Date.now();
    this.ctx.storage.sql.exec("DELETE FROM revoked_sessions WHERE until <= ?", now);
    for (const [id, until] of this.revoked) if (until <= now) this.revoked.delete(id);
    if (this.revoked.size > 0) this.scheduleCleanup();
  }
}

/** The stub for one subject's Gate. */
export function gateFor(ns: DurableObjectNamespace<Gate>, subject: string): DurableObjectStub<Gate> {
  return ns.get(ns.idFromName(subject));
}
