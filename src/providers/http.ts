import type { z } from "zod";
import type { Logger } from "../logger";
import {
  MalformedResponseError,
  PaymentRequiredError,
  ProviderError,
  type ProviderErrorInfo,
  ProviderRejectedError,
  RateLimitedError,
  ReauthRequiredError,
  TransientProviderError,
} from "./types";

/** Per-call time limits. `connectMs` bounds the wait for response headers; `totalMs` the whole call. */
export interface HttpTimeouts {
  connectMs: number;
  totalMs: number;
}

/** Options for a provider's outbound HTTP client. */
export interface ProviderHttpOptions {
  /** Provider slug, for messages and logs. */
  provider: string;
  fetch: typeof fetch;
  timeouts: HttpTimeouts;
  /** Response header with the provider's request id (Schwab: `Schwab-Client-CorrelId`). */
  correlationIdHeader?: string;
  logger?: Logger;
  now?: () => Date;
  /** Provider-wide reading of failed answers, tried before the status table (per-request `classify` first). */
  classify?: ErrorClassifier;
  hooks?: ProviderHooks;
  /** The most of an answer read (default MAX_ANSWER_BYTES); tests lower it. */
  maxAnswerBytes?: number;
}

/** What the integrator does around every call: outbound limits before it, a metric after it. */
export interface ProviderHooks {
  /** Waits for (or refuses with a RateLimitedError) the provider's outbound budget. */
  beforeCall?(operation: string): Promise<void>;
  afterCall?(call: ProviderCall): void;
}

/** One finished call, for metrics: no URLs, bodies or ids. */
export interface ProviderCall {
  operation: string;
  /** The HTTP status, or null when none came (timeout, network). */
  status: number | null;
  durationMs: number;
  outcome: "ok" | "error" | "throttled";
}

/** A failed (non-2xx) answer, for a provider-specific classifier. `text` is raw: never log it. */
export interface FailedAnswer {
  /** `<provider> <operation>`, for messages. */
  label: string;
  status: number;
  headers: Headers;
  text: string;
  /** The log-safe summary the default classification would use. */
  detail: string;
  /** The default message: `<label>: HTTP <status> (<detail>)`. */
  message: string;
  info: ProviderErrorInfo;
  now: Date;
}

/** Maps a failed answer to a provider error, or null for the default status table. */
export type ErrorClassifier = (answer: FailedAnswer) => ProviderError | null;

/** One JSON call. `operation` is a log label such as "token.refresh"; never put secrets in it. */
export interface ProviderRequest<T> {
  operation: string;
  method: "GET" | "POST" | "DELETE";
  url: string;
  headers?: Record<string, string>;
  body?: string;
  /** A form body (application/x-www-form-urlencoded); sets the Content-Type. Not with `body`. */
  form?: Record<string, string>;
  schema: z.ZodType<T>;
  /**
   * Statuses meaning "the user must authorize again". Default [401]; token endpoints pass
   * [400, 401] because an invalid or expired grant is a 400 (RFC 6749 §5.2).
   */
  reauthStatuses?: readonly number[];
  /** This call's own reading of failed answers, tried first. */
  classify?: ErrorClassifier;
}

/** A call whose 2xx body is taken as text (SimpleFIN's claim answers a plain-text URL). */
export type ProviderTextRequest = Omit<ProviderRequest<never>, "schema">;

/** A successful answer with its headers (rate-limit and quota headers). */
export interface ProviderResponse<T> {
  data: T;
  status: number;
  headers: Headers;
}

/** Sends provider requests with timeouts and maps every failure to a typed ProviderError. */
export interface ProviderHttpClient {
  /** A JSON call; resolves with the parsed body. */
  request<T>(req: ProviderRequest<T>): Promise<T>;
  /** A JSON call; resolves with the parsed body, the status and the headers. */
  exchange<T>(req: ProviderRequest<T>): Promise<ProviderResponse<T>>;
  /** A call whose 2xx body is text, returned as is (not logged). */
  text(req: ProviderTextRequest): Promise<ProviderResponse<string>>;
}

const MAX_DETAIL = 160;

/**
 * Seconds to wait from a Retry-After value (RFC 9110 §10.2.3): delay-seconds or an HTTP-date.
 * A date in the past gives 0; anything unparseable gives null.
 */
export function parseRetryAfter(value: string | null | undefined, now: Date = new Date()): number | null {
  if (value == null) return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) {
    const seconds = Number(v);
    return Number.isSafeInteger(seconds) ? seconds : null;
  }
  // HTTP-date: IMF-fixdate or the obsolete RFC 850 / asctime forms, which Date.parse reads.
  if (!/^[A-Za-z]{3}/.test(v)) return null;
  const at = Date.parse(v);
  if (!Number.isFinite(at)) return null;
  return Math.max(0, Math.ceil((at - now.getTime()) / 1000));
}

/** Collapses whitespace, drops control characters, redacts token-like runs and truncates. */
export function sanitizeDetail(text: string, max = MAX_DETAIL): string {
  const clean = text
    // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point.
    .replace(/[\u0000-\u001f\u007f]+/g, " ")
    .replace(/\bBearer\s+\S+/gi, "Bearer [redacted]")
    .replace(/\bBasic\s+[A-Za-z0-9+/=]+/gi, "Basic [redacted]")
    // Userinfo in a URL is a credential (SimpleFIN access URLs): keep neither name nor password.
    .replace(/\/\/[^\s/@]+@/g, "//[redacted]@")
    // Long runs with a digit look like tokens, hashes or account data; error codes have none.
    .replace(/[\w.~+/=-]{24,}/g, (run) => (/\d/.test(run) ? "[redacted]" : run))
    // Account numbers may be echoed back in provider messages.
    .replace(/\d{7,}/g, "[redacted]")
    .replace(/\s+/g, " ")
    .trim();
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

const str = (v: unknown): string | null => (typeof v === "string" && v.trim() !== "" ? v : null);

function summarizeJson(body: unknown): string | null {
  if (Array.isArray(body) || typeof body !== "object" || body === null) return null;
  const o = body as Record<string, unknown>;
  // OAuth error (RFC 6749 §5.2); Schwab nests a JSON string with the real reason in the description.
  const oauthError = str(o.error);
  if (oauthError) {
    const description = str(o.error_description) ?? "";
    const nested = /\\?"error\\?"\s*:\s*\\?"([A-Za-z0-9_.-]{1,64})\\?"/.exec(description)?.[1];
    if (nested) return `${oauthError} (${nested})`;
    return description ? `${oauthError}: ${description}` : oauthError;
  }
  // Apigee: {fault:{faultstring, detail:{errorcode}}}
  if (typeof o.fault === "object" && o.fault !== null) {
    const fault = o.fault as Record<string, unknown>;
    const detail = typeof fault.detail === "object" && fault.detail !== null ? fault.detail : {};
    const code = str((detail as Record<string, unknown>).errorcode);
    const text = str(fault.faultstring) ?? "fault";
    return code ? `${code}: ${text}` : text;
  }
  // GoCardless: {summary, detail, status_code, type?}.
  const summary = str(o.summary);
  if (summary) {
    const detail = str(o.detail);
    const type = str(o.type);
    return [type, summary, detail].filter(Boolean).join(": ");
  }
  const message = str(o.message);
  const errors = Array.isArray(o.errors) ? o.errors : [];
  const first: unknown = errors[0];
  // Documented: {message, errors:[string]}.
  if (message) return typeof first === "string" ? `${message}; ${first}` : message;
  // Gateway envelope: {errors:[{id, status, title, detail}]}.
  if (typeof first === "object" && first !== null) {
    const e = first as Record<string, unknown>;
    const status = typeof e.status === "number" || typeof e.status === "string" ? String(e.status) : "";
    const parts = [status, str(e.title), str(e.detail)].filter(Boolean);
    if (parts.length) return parts.join(" ");
  }
  if (typeof first === "string") return first;
  // GoCardless field validation: {"<field>": {summary, detail}, "status_code": 400}.
  for (const [field, value] of Object.entries(o)) {
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      const v = value as Record<string, unknown>;
      const fieldSummary = str(v.summary) ?? str(v.detail);
      if (fieldSummary) return `${field}: ${fieldSummary}`;
    }
  }
  return null;
}

/**
 * A short, log-safe summary of an error body in any of the shapes Schwab, GoCardless, SimpleFIN
 * and Alpaca send (JSON envelopes, plain text, HTML).
 */
export function summarizeErrorBody(text: string, contentType: string | null): string {
  const trimmed = text.trim();
  if (trimmed === "") return "empty body";
  if (/html/i.test(contentType ?? "") || /^<(!doctype|html|head|body)/i.test(trimmed)) {
    const title = /<title[^>]*>([^<]*)<\/title>/i.exec(trimmed)?.[1];
    return title ? `html page: ${sanitizeDetail(title, 80)}` : "html page";
  }
  try {
    const summary = summarizeJson(JSON.parse(trimmed));
    return summary ? sanitizeDetail(summary) : "json body";
  } catch {
    return sanitizeDetail(trimmed.split("\n", 1)[0] ?? "");
  }
}

/**
 * The most of an answer read: far above any real provider page (Schwab caps one at 3,000
 * transactions, about 2 MB), far below an isolate's 128 MB. A host a person's setup token names
 * could otherwise stream a body big enough to run the isolate, and other users' requests in it,
 * out of memory.
 */
export const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

class AnswerTooLarge extends Error {}

/** The body as text, refused past `max` bytes (its declared length first, then as it streams). */
async function cappedText(res: Response, max: number): Promise<string> {
  const declared = Number(res.headers.get("Content-Length") ?? "0");
  if (declared > max) {
    await res.body?.cancel();
    throw new AnswerTooLarge();
  }
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      throw new AnswerTooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

/** Resolves with `promise` unless `signal` aborts first (so a fetch that ignores signals still times out). */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}

function correlationOf(res: Response, header: string | undefined): string | null {
  if (!header) return null;
  const v = res.headers.get(header);
  return v && /^[A-Za-z0-9._:-]{1,128}$/.test(v) ? v : null;
}

/** Creates the outbound client an adapter uses for every provider call. */
export function createProviderHttp(options: ProviderHttpOptions): ProviderHttpClient {
  const { provider, timeouts, logger } = options;
  if (!(timeouts.connectMs > 0 && timeouts.totalMs > 0)) throw new RangeError("timeouts must be positive");
  const doFetch = options.fetch;
  const now = options.now ?? (() => new Date());

  const hooks = options.hooks;
  /** Runs one call with its limit before and its metric after; `run` answers its value and status. */
  async function logged<R>(req: ProviderTextRequest, run: () => Promise<{ value: R; status: number }>): Promise<R> {
    const report = (outcome: ProviderCall["outcome"], status: number | null, started: number) =>
      hooks?.afterCall?.({ operation: req.operation, status, durationMs: Date.now() - started, outcome });
    if (hooks?.beforeCall) {
      const asked = Date.now();
      try {
        await hooks.beforeCall(req.operation);
      } catch (err) {
        report("throttled", null, asked);
        throw err;
      }
    }
    const started = Date.now();
    try {
      const { value, status } = await run();
      logger?.debug("provider call", { provider, operation: req.operation, ms: Date.now() - started });
      report("ok", status, started);
      return value;
    } catch (err) {
      report("error", err instanceof ProviderError ? err.status : null, started);
      // One log line per failed call, with only the error's safe fields (never headers or bodies).
      if (err instanceof ProviderError) {
        logger?.warn("provider call failed", {
          provider,
          operation: req.operation,
          ms: Date.now() - started,
          ...err.toLog(),
        });
      }
      throw err;
    }
  }

  interface Answer {
    res: Response;
    text: string;
    info: ProviderErrorInfo;
    label: string;
  }

  /** One call: timeouts, the body read, and non-2xx answers mapped to errors. */
  async function send(req: ProviderTextRequest): Promise<Answer> {
    const label = `${provider} ${req.operation}`;
    const headers = { ...req.headers };
    let body = req.body;
    if (req.form) {
      headers["Content-Type"] = "application/x-www-form-urlencoded";
      body = new URLSearchParams(req.form).toString();
    }
    const total = AbortSignal.timeout(timeouts.totalMs);
    // First-byte limit: a controller we cancel once headers arrive, so it cannot cut the body read.
    const connect = new AbortController();
    const connectTimer = setTimeout(
      () => connect.abort(new DOMException("connect timeout", "TimeoutError")),
      timeouts.connectMs,
    );
    const signal = AbortSignal.any([total, connect.signal]);
    const timeoutError = (cause: unknown) =>
      new TransientProviderError(
        `${label} timed out ${connect.signal.aborted ? `waiting for headers (${timeouts.connectMs} ms)` : `after ${timeouts.totalMs} ms`}`,
        { timeout: true, cause },
      );

    let res: Response;
    try {
      res = await raceAbort(
        doFetch(req.url, { method: req.method, headers, body, signal, redirect: "manual" }),
        signal,
      );
    } catch (cause) {
      throw signal.aborted ? timeoutError(cause) : new TransientProviderError(`${label}: network error`, { cause });
    } finally {
      clearTimeout(connectTimer);
    }

    const correlationId = correlationOf(res, options.correlationIdHeader);
    let text: string;
    try {
      text = await raceAbort(cappedText(res, options.maxAnswerBytes ?? MAX_ANSWER_BYTES), signal);
    } catch (cause) {
      if (cause instanceof AnswerTooLarge) {
        throw new MalformedResponseError(
          `${label}: answer larger than the ${options.maxAnswerBytes ?? MAX_ANSWER_BYTES} bytes we read`,
          {
            status: res.status,
            correlationId,
          },
        );
      }
      throw signal.aborted
        ? timeoutError(cause)
        : new TransientProviderError(`${label}: body read failed`, { status: res.status, correlationId, cause });
    }

    if (res.status < 200 || res.status > 299) {
      const failed = failedAnswer(label, res, text, correlationId, now());
      throw req.classify?.(failed) ?? options.classify?.(failed) ?? statusError(failed, req.reauthStatuses ?? [401]);
    }
    return { res, text, info: { status: res.status, correlationId }, label };
  }

  function parseJson<T>(req: ProviderRequest<T>, { res, text, info, label }: Answer): T {
    const contentType = res.headers.get("Content-Type") ?? "";
    if (/html/i.test(contentType)) {
      throw new MalformedResponseError(`${label}: HTML instead of JSON`, {
        ...info,
        detail: summarizeErrorBody(text, contentType),
      });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new MalformedResponseError(`${label}: body is not JSON`, {
        ...info,
        detail: summarizeErrorBody(text, contentType),
      });
    }
    const parsed = req.schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue ? issue.path.map(String).join(".") || "(root)" : "(root)";
      const detail = sanitizeDetail(`${where}: ${issue?.message ?? "invalid"}`);
      throw new MalformedResponseError(`${label}: unexpected response shape (${detail})`, { ...info, detail });
    }
    return parsed.data;
  }

  return {
    request: (req) =>
      logged(req, async () => {
        const answer = await send(req);
        return { value: parseJson(req, answer), status: answer.res.status };
      }),
    exchange: (req) =>
      logged(req, async () => {
        const answer = await send(req);
        const status = answer.res.status;
        return { value: { data: parseJson(req, answer), status, headers: answer.res.headers }, status };
      }),
    text: (req) =>
      logged(req, async () => {
        const answer = await send(req);
        const status = answer.res.status;
        return { value: { data: answer.text, status, headers: answer.res.headers }, status };
      }),
  };
}

function failedAnswer(label: string, res: Response, text: string, correlationId: string | null, now: Date) {
  const detail = summarizeErrorBody(text, res.headers.get("Content-Type"));
  const info: ProviderErrorInfo = { status: res.status, correlationId, detail };
  const message = `${label}: HTTP ${res.status} (${detail})`;
  return { label, status: res.status, headers: res.headers, text, detail, message, info, now } satisfies FailedAnswer;
}

/** The default status table (docs/providers/schwab.md "Errors and limits"). */
export function statusError(answer: FailedAnswer, reauthStatuses: readonly number[]): ProviderError {
  const { message, info, status } = answer;
  if (reauthStatuses.includes(status)) return new ReauthRequiredError(message, info);
  if (status === 402) return new PaymentRequiredError(message, info);
  if (status === 429) {
    return new RateLimitedError(message, parseRetryAfter(answer.headers.get("Retry-After"), answer.now), info);
  }
  if (status === 408 || status >= 500) return new TransientProviderError(message, info);
  // 3xx (redirects are not followed: an API never sends us to a login page on purpose) and other 4xx.
  return new ProviderRejectedError(message, info);
}
