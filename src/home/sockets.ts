import { CLOSE_SESSION_ENDED, type LiveEvent, liveEvent } from "./events";

/** What each live-events socket remembers (it survives hibernation as the socket's attachment). */
export interface SocketInfo {
  sessionId: string;
  /** The access token it opened with: its token version, issue (iat, seconds) and expiry (ms). */
  tokenVersion: number;
  iatSeconds: number;
  expiresAt: number;
}

const info = (ws: WebSocket) => ws.deserializeAttachment() as SocketInfo | null;

/** Sends a final event (if any) and closes with 4001 (docs/contract.md "Live events"). */
function end(ws: WebSocket, reason: string, event?: LiveEvent) {
  try {
    if (event) ws.send(JSON.stringify(event));
    ws.close(CLOSE_SESSION_ENDED, reason);
  } catch {
    // Already closing.
  }
}

/** The user's open live-event sockets: who they belong to and when they must close. */
export class Sockets {
  constructor(private readonly ctx: DurableObjectState) {}

  accept(server: WebSocket, socket: SocketInfo) {
    this.ctx.acceptWebSocket(server, [socket.sessionId]);
    server.serializeAttachment(socket);
  }

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

  /** Closes the sockets of these sessions, telling them why. */
  endSessions(sessionIds: string[]) {
    for (const id of sessionIds) {
      for (const ws of this.ctx.getWebSockets(id)) {
        end(ws, "session revoked", liveEvent("session.revoked", { session_id: id }));
      }
    }
  }

  /** Closes every socket whose opening token `refused` says no longer counts. */
  endWhere(reason: string, refused: (s: SocketInfo) => boolean) {
    for (const ws of this.ctx.getWebSockets()) {
      const s = info(ws);
      if (s && refused(s)) end(ws, reason, liveEvent("session.revoked", { session_id: s.sessionId, reason }));
    }
  }

  /** Closes the sockets whose access token has expired; clients reconnect with a fresh one. */
  endExpired(now: number) {
    for (const ws of this.ctx.getWebSockets()) {
      const s = info(ws);
      if (s && s.expiresAt <= now) end(ws, "access token expired");
    }
  }

  /** The earliest expiry among open sockets, or null when none is open. */
  nextExpiry(): number | null {
    let next: number | null = null;
    for (const ws of this.ctx.getWebSockets()) {
      const s = info(ws);
      if (s && (next === null || s.expiresAt < next)) next = s.expiresAt;
    }
    return next;
  }

  get open(): number {
    return this.ctx.getWebSockets().length;
  }
}

/** Headers the Worker uses to hand an authenticated socket to the user's home. */
export const SOCKET_HEADERS = {
  session: "X-Ledgerlink-Session",
  version: "X-Ledgerlink-Token-Version",
  issuedAt: "X-Ledgerlink-Token-Iat",
  expiresAt: "X-Ledgerlink-Token-Exp",
} as const;

/** The socket's token facts from the Worker's headers; null when any is missing. */
export function socketInfoOf(h: Headers): SocketInfo | null {
  const sessionId = h.get(SOCKET_HEADERS.session);
  const nums = [SOCKET_HEADERS.version, SOCKET_HEADERS.issuedAt, SOCKET_HEADERS.expiresAt].map((k) => Number(h.get(k)));
  if (!sessionId || nums.some((n) => !Number.isFinite(n))) return null;
  const [tokenVersion, iat, exp] = nums as [number, number, number];
  return { sessionId, tokenVersion, iatSeconds: iat, expiresAt: exp * 1000 };
}
