import type { Deps } from "../../deps";

/** What connection services depend on (a slice of src/deps.ts); D1 alone says whose a connection is. */
export type ConnectionDeps = Pick<Deps, "db" | "config" | "providers" | "logger" | "now" | "sleep" | "homes" | "defer">;
