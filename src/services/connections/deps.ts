import type { Deps } from "../../deps";

/**
 * What connection services depend on (a slice of src/deps.ts); `gate` reaches the user's home,
 * which learns of each connection so reads can tell it is theirs.
 */
export type ConnectionDeps = Pick<Deps, "db" | "config" | "providers" | "logger" | "now" | "sleep" | "gate">;
