import { SessionError } from "../errors.js";
import { describeValue } from "../validation.js";
import { RecordDeliveryError } from "./delivery-error.js";
import type { DeliverRecords } from "./options.js";
import { parseRetryAfter } from "./retry-after.js";
import { backgroundTimeout } from "./timers.js";

/** The part of `fetch` the HTTP sink uses: the global `fetch` of Node, Bun, Deno and Workers fits. */
export type HttpFetch = (url: string, init: HttpRequestInit) => Promise<HttpResponse>;

/** What the HTTP sink passes to `fetch`. */
export interface HttpRequestInit {
  method: "POST";
  headers: Record<string, string>;
  body: string;
  signal: AbortSignal;
}

/** What the HTTP sink reads of a `fetch` response. */
export interface HttpResponse {
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}

/** Options of {@link httpRecordSink}. Times are in seconds. */
export interface HttpRecordSinkOptions {
  /** Where to POST batches, `http:` or `https:`. */
  url: string | URL;
  /** Sent as `Authorization: Bearer <token>`, or as is in `tokenHeader`. */
  token?: string;
  /** The header that carries `token` as is (the origin SDK's style, e.g. `"x-api-key"`). Default: `Authorization` with `Bearer `. */
  tokenHeader?: string;
  /** More headers for every request. */
  headers?: Record<string, string>;
  /** Seconds one request may take, the answer's body included; then it is aborted and retried. Default 10. */
  timeout?: number;
  /** The `fetch` to use. Default: the runtime's global `fetch`. */
  fetch?: HttpFetch;
}

const source = "http-record-sink";

/**
 * The `deliver` of a record sink for an HTTP backend: each batch is one `POST <url>` with the JSON
 * body `{ "records": [...] }`, the token header, and `Idempotency-Key: <batchId>` (the same on every
 * attempt of a batch, so the receiver can drop a batch it already has) plus `X-Threadline-Attempt`.
 * 2xx is delivered. Network errors, timeouts, 408, 429 and 5xx are transient (retried; `Retry-After`
 * is honoured up to the sink's `maxDelay`); any other status is permanent: the batch is dropped
 * and reported, never retried.
 *
 * @example
 * const sink = createRecordSink({ deliver: httpRecordSink({ url: "https://traces.example.com/v1/records", token }) });
 */
export function httpRecordSink(options: HttpRecordSinkOptions): DeliverRecords {
  const { url, timeoutMs, fetch, headers } = httpConfig(options);
  return async (records, context) => {
    let body: string;
    try {
      body = JSON.stringify({ records });
    } catch (error) {
      throw new RecordDeliveryError({
        message: "a record of the batch is not JSON-serialisable (a BigInt, a cycle)",
        retryable: false,
        source,
        cause: error,
      });
    }
    // One signal for both ends: our own timeout, and the sink giving up on the attempt.
    const controller = new AbortController();
    const stop = () => controller.abort(context.signal.reason);
    if (context.signal.aborted) stop();
    context.signal.addEventListener("abort", stop, { once: true });
    const timer = backgroundTimeout(
      () =>
        controller.abort(
          new RecordDeliveryError({ message: `no answer within ${timeoutMs / 1000} s (timeout)`, source }),
        ),
      timeoutMs,
    );
    try {
      let response: HttpResponse;
      let text: string;
      try {
        response = await fetch(url, {
          method: "POST",
          headers: { ...headers, "idempotency-key": context.batchId, "x-threadline-attempt": String(context.attempt) },
          body,
          signal: controller.signal,
        });
        // Read the body so the connection is freed; a body that stalls is cut by the same signal.
        text = await response.text();
      } catch (error) {
        throw requestFailure(error, controller.signal);
      }
      const status = response.status;
      if (status >= 200 && status < 300) return;
      const transient = status === 408 || status === 429 || status >= 500;
      throw new RecordDeliveryError({
        message: `the receiver answered ${status}${text ? `: ${text.slice(0, 200)}` : ""}`,
        status,
        retryable: transient,
        retryAfter: transient ? parseRetryAfter(response.headers.get("retry-after")) : undefined,
        source,
      });
    } finally {
      clearTimeout(timer);
      context.signal.removeEventListener("abort", stop);
    }
  };
}

/** A request that got no answer: transient, with the abort's own reason when it was ours. */
function requestFailure(error: unknown, signal: AbortSignal): RecordDeliveryError {
  if (signal.aborted && signal.reason instanceof RecordDeliveryError) return signal.reason;
  const message = error instanceof Error ? error.message : String(error);
  return new RecordDeliveryError({ message: `the request failed: ${message}`, source, cause: error });
}

function httpConfig(options: HttpRecordSinkOptions): {
  url: string;
  timeoutMs: number;
  fetch: HttpFetch;
  headers: Record<string, string>;
} {
  if (typeof options !== "object" || options === null) invalid("options", "an object with url", options);
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    invalid("url", "an absolute http: or https: URL", options.url);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") invalid("url", "an http: or https: URL", url.protocol);
  const timeout = options.timeout ?? 10;
  if (typeof timeout !== "number" || !Number.isFinite(timeout) || timeout <= 0) {
    invalid("timeout", "a finite number of seconds > 0", timeout);
  }
  const fetch = options.fetch ?? (globalThis.fetch as HttpFetch | undefined);
  if (typeof fetch !== "function") invalid("fetch", "a fetch function (this runtime has no global fetch)", fetch);
  const headers: Record<string, string> = { "content-type": "application/json" };
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    if (typeof value !== "string") invalid(`headers[${JSON.stringify(name)}]`, "a string", value);
    headers[name.toLowerCase()] = value;
  }
  if (options.token !== undefined) {
    if (typeof options.token !== "string" || options.token === "")
      invalid("token", "a non-empty string", options.token);
    const tokenHeader = options.tokenHeader ?? "authorization";
    if (typeof tokenHeader !== "string" || tokenHeader === "") invalid("tokenHeader", "a header name", tokenHeader);
    headers[tokenHeader.toLowerCase()] = options.tokenHeader === undefined ? `Bearer ${options.token}` : options.token;
  }
  return { url: url.href, timeoutMs: timeout * 1000, fetch, headers };
}

function invalid(name: string, expected: string, value: unknown): never {
  throw new SessionError({
    code: "INVALID_OPTION",
    source,
    message: `${name} must be ${expected}, got ${describeValue(value)}.`,
  });
}
