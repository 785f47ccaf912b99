/**
 * What one sync attempt costs in calls (issue 20: "a sync attempt in at most three home calls and
 * two D1 round trips"): the attempt runs on dependencies that count its calls to the user's home
 * and its D1 round trips (a statement run, or a batch), so its log line, the tests and
 * `npm run bench:sync` read the real figures rather than the design's.
 */
import { createDb, type Db } from "../../db/client";
import type { SyncDeps } from "./deps";

export interface CallCounts {
  homeCalls: number;
  d1RoundTrips: number;
}

const RUNS = new Set(["all", "run", "first", "raw"]);

/** A D1 binding that counts each statement run and each batch as one round trip. */
function countingD1(d1: D1Database, counts: CallCounts): D1Database {
  const statement = (s: D1PreparedStatement): D1PreparedStatement =>
    new Proxy(s, {
      get(target, prop) {
        const v = Reflect.get(target, prop, target);
        if (typeof v !== "function") return v;
        if (prop === "bind") return (...args: unknown[]) => statement(v.apply(target, args));
        if (RUNS.has(String(prop))) {
          return (...args: unknown[]) => {
            counts.d1RoundTrips++;
            return v.apply(target, args);
          };
        }
        return v.bind(target);
      },
    });
  return new Proxy(d1, {
    get(target, prop) {
      if (prop === "prepare") return (query: string) => statement(target.prepare(query));
      if (prop === "batch") {
        return (statements: D1PreparedStatement[]) => {
          counts.d1RoundTrips++;
          return target.batch(statements);
        };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

/** The same dependencies, counting the attempt's home calls and D1 round trips into `counts`. */
export function metered<D extends Pick<SyncDeps, "db" | "homes">>(deps: D): { deps: D; counts: CallCounts } {
  const counts: CallCounts = { homeCalls: 0, d1RoundTrips: 0 };
  const homes = new Proxy(deps.homes, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target);
      if (typeof v !== "function") return v;
      return (...args: unknown[]) => {
        counts.homeCalls++;
        return v.apply(target, args);
      };
    },
  });
  // drizzle's handle keeps its binding as `$client`; a handle over the counting binding shares
  // the schema and casing (src/db/client.ts).
  const db: Db = createDb(countingD1(deps.db.$client, counts));
  const counted = Object.create(deps) as D;
  Object.defineProperties(counted, {
    homes: { value: homes, enumerable: true },
    db: { value: db, enumerable: true },
  });
  return { deps: counted, counts };
}
