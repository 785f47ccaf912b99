import type { Deps } from "../../deps";

/** What connection services depend on (a slice of src/deps.ts). */
export type ConnectionDeps = Pick<Deps, "db" | "config" | "providers" | "logger" | "now" | "sleep">;
