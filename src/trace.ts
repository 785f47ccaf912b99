/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): a request's `traceparent` is taken
 * when it is well formed, else a trace starts here. The trace id then travels with the work:
 * log lines, audit rows, queue messages, sync runs and the calls to the user's home, so one
 * search by `trace_id` follows a sync from the cron tick to the row it wrote. Workers
 * observability records its own spans; this is the id that ties our records together.
 */

/** The part of a trace this code carries. */
export interface Trace {
  /** 32 lower-case hex digits, not all zero. */
  traceId: string;
  /** This hop's span: 16 lower-case hex digits, not all zero. */
  spanId: string;
  sampled: boolean;
}

const hex = (bytes: number) =>
  [...crypto.getRandomValues(new Uint8Array(bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");

/** Version 00: `00-<trace-id>-<parent-id>-<flags>` (§3.2); all-zero ids are invalid. */
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
export const TRACE_ID = /^[0-9a-f]{32}$/;

/** A new span of the trace, or a new trace. */
export function newTrace(traceId?: string | null): Trace {
  const id = traceId && TRACE_ID.test(traceId) && !/^0+$/.test(traceId) ? traceId : hex(16);
  return { traceId: id, spanId: hex(8), sampled: true };
}

/** The trace a `traceparent` header names (this hop a new span of it), or a new one. */
export function traceFrom(header: string | null | undefined): Trace {
  const m = header ? TRACEPARENT.exec(header.trim().toLowerCase()) : null;
  if (!m || /^0+$/.test(m[1] as string) || /^0+$/.test(m[2] as string)) return newTrace();
  return { traceId: m[1] as string, spanId: hex(8), sampled: (Number.parseInt(m[3] as string, 16) & 1) === 1 };
}
