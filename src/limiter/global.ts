/**
 * What the `global` Limiter holds for every home: the global token rotation, and the restores
 * staged for homes about to be rewound (kept here because a restore rewinds the home's own
 * storage; docs/security.md, second pass item 8).
 */

/** The global rotation: every access token issued before `notBefore` is refused. */
export interface GlobalRotation {
  version: number;
  /** Access tokens issued (iat, ms) before this are refused. */
  notBefore: number;
}

/** What a home restored to an earlier point must apply before it serves anything. */
export interface StagedRestore {
  id: string;
  /** Tokens issued before this second are refused (but none is kept). */
  cutSecond: number;
  /** Sessions D1 revoked while their access tokens could still live. */
  revokedSessionIds: string[];
  /** How long those revocations must be kept (epoch ms). */
  revokedUntil: number;
  minTokenVersion: number;
  /** The user's connections in the directory: the data of any other goes again. */
  connectionIds: string[];
  stagedAt: number;
}

/** A staged restore is offered to its home this long (a restore restarts the home at once). */
export const STAGED_RESTORE_MS = 86_400_000;
const ROTATION_KEY = "global";
const RESTORE_PREFIX = "restore:";

export class GlobalState {
  constructor(private readonly kv: SyncKvStorage) {}

  rotation(): GlobalRotation {
    return this.kv.get<GlobalRotation>(ROTATION_KEY) ?? { version: 0, notBefore: 0 };
  }

  rotate(now: number): GlobalRotation {
    const next = { version: this.rotation().version + 1, notBefore: now };
    this.kv.put(ROTATION_KEY, next);
    return next;
  }

  stage(userId: string, restore: StagedRestore): void {
    this.kv.put(RESTORE_PREFIX + userId, restore);
  }

  /** Withdraws a staged restore that did not happen (only that one: `id`). */
  unstage(userId: string, id: string): void {
    if (this.kv.get<StagedRestore>(RESTORE_PREFIX + userId)?.id === id) this.kv.delete(RESTORE_PREFIX + userId);
  }

  staged(userId: string, now: number): StagedRestore | null {
    const staged = this.kv.get<StagedRestore>(RESTORE_PREFIX + userId);
    return staged && now - staged.stagedAt < STAGED_RESTORE_MS ? staged : null;
  }

  purge(now: number): void {
    for (const [key, staged] of this.kv.list<StagedRestore>({ prefix: RESTORE_PREFIX })) {
      if (now - staged.stagedAt >= STAGED_RESTORE_MS) this.kv.delete(key);
    }
  }

  nextPurge(): number | null {
    const times = [...this.kv.list<StagedRestore>({ prefix: RESTORE_PREFIX })].map(
      ([, s]) => s.stagedAt + STAGED_RESTORE_MS,
    );
    return times.length ? Math.min(...times) : null;
  }
}
