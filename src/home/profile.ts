/**
 * The user's public profile, cached in their home so `GET /auth/me` reads no D1: every change of
 * the user row forgets it (an epoch counts the forgettings, so a read that began before one does
 * not cache a stale copy), and a TTL bounds how stale it can be if forgetting ever failed.
 */
import type { z } from "zod";
import type { User } from "../wire/identity";

/** The wire shape of a user (role as stored; ADMIN_EMAILS is applied per request). */
export type PublicUser = z.infer<typeof User>;

const PROFILE_KEY = "profile";
const PROFILE_EPOCH_KEY = "profile_epoch";
/** How long a cached profile is trusted. */
const PROFILE_TTL_MS = 10 * 60_000;

type Stored = { profile: PublicUser; at: number } | null;

export class ProfileCache {
  /** What storage holds, once read (two storage reads cost more than the rest of `/auth/me`). */
  private cached: { value: Stored; epoch: number } | null = null;

  constructor(private readonly kv: SyncKvStorage) {}

  private state() {
    this.cached ??= {
      value: this.kv.get<NonNullable<Stored>>(PROFILE_KEY) ?? null,
      epoch: this.kv.get<number>(PROFILE_EPOCH_KEY) ?? 0,
    };
    return this.cached;
  }

  /** The cached profile (null when absent or too old) and the current epoch. */
  read(now: number): { profile: PublicUser | null; epoch: number } {
    const { value, epoch } = this.state();
    return { profile: value && now - value.at < PROFILE_TTL_MS ? value.profile : null, epoch };
  }

  /** Caches the profile unless it was forgotten since the caller's read began (`epoch`). */
  set(profile: PublicUser, epoch: number, now: number): boolean {
    if (this.state().epoch !== epoch) return false;
    const value = { profile, at: now };
    this.kv.put(PROFILE_KEY, value);
    this.cached = { value, epoch };
    return true;
  }

  forget(): void {
    const epoch = this.state().epoch + 1;
    this.kv.delete(PROFILE_KEY);
    this.kv.put(PROFILE_EPOCH_KEY, epoch);
    this.cached = { value: null, epoch };
  }
}
