/** Log levels, most verbose first; `LOG_LEVEL` picks one (src/config.ts). */
export const LOG_LEVELS = ["debug", "info", "warn", "error", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A level from an unvalidated setting (the Durable Objects read no config): `info` when unknown. */
export const logLevelOf = (value: unknown): LogLevel =>
  (LOG_LEVELS as readonly unknown[]).includes(value) ? (value as LogLevel) : "info";

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** The same logger with more fields on every line (e.g. a message's `trace_id`). */
  with(fields: LogFields): Logger;
}

/**
 * Structured JSON logs, one object per line, so Workers Logs can index every field. A class, so
 * the logger every request makes is one small object (its methods live on the prototype).
 */
class JsonLogger implements Logger {
  private readonly at: number;

  constructor(
    private readonly level: LogLevel,
    private readonly base: LogFields,
  ) {
    this.at = ORDER[level];
  }

  with(fields: LogFields): Logger {
    return new JsonLogger(this.level, { ...this.base, ...fields });
  }

  debug(msg: string, fields?: LogFields) {
    this.write("debug", msg, fields);
  }
  info(msg: string, fields?: LogFields) {
    this.write("info", msg, fields);
  }
  warn(msg: string, fields?: LogFields) {
    this.write("warn", msg, fields);
  }
  error(msg: string, fields?: LogFields) {
    this.write("error", msg, fields);
  }

  private write(lvl: Exclude<LogLevel, "silent">, msg: string, fields?: LogFields) {
    if (ORDER[lvl] < this.at) return;
    const line = JSON.stringify({ level: lvl, msg, time: new Date().toISOString(), ...this.base, ...fields });
    if (lvl === "error") console.error(line);
    else if (lvl === "warn") console.warn(line);
    else console.log(line);
  }
}

export function createLogger(level: LogLevel = "info", base: LogFields = {}): Logger {
  return new JsonLogger(level, base);
}
