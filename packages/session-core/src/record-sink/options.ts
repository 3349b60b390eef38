import { createErrorSink, type ErrorHandler, type ErrorSink } from "../adapter-kit/error-sink.js";
import { SessionError } from "../errors.js";
import type { RunRecord } from "../run-record.js";
import { describeValue } from "../validation.js";

/** What a `deliver` function learns about the batch it is handed. */
export interface DeliveryContext {
  /**
   * The batch's id, a random UUID, the same on every attempt of the batch: a receiver that
   * dedupes on it sees each batch once even when an attempt timed out after the receiver took it
   * (the HTTP sink sends it as `Idempotency-Key`). Each record's `runId` identifies the record.
   */
  batchId: string;
  /** Which attempt this is, from 1. */
  attempt: number;
  /** Aborted when the sink stops waiting for this attempt (`deliveryTimeout`, or shutdown). Pass it on to `fetch`. */
  signal: AbortSignal;
}

/**
 * Delivers one batch, in the order the records were added. Resolves when the backend has them;
 * throws (rejects) otherwise: the batch is retried unless the error says `retryable: false`
 * (see `RecordDeliveryError`), and `retryAfter` (seconds) is the least wait before the next attempt.
 */
export type DeliverRecords = (records: readonly RunRecord[], context: DeliveryContext) => Promise<void>;

/** Options of {@link createRecordSink}. Times are in seconds. */
export interface RecordSinkOptions {
  /** Where records go: your function, or `httpRecordSink({ url, token })`. */
  deliver: DeliverRecords;
  /** Records per delivery. A full batch is delivered at once; a partial one after `flushInterval`. Default 10. */
  batchSize?: number;
  /** Seconds a partial batch waits for company before it is delivered; 0 delivers at once. Default 5. */
  flushInterval?: number;
  /**
   * Most records the sink holds, the batch being delivered included. One more drops the oldest
   * waiting record and reports it (`RECORDS_DROPPED`, operation `"buffer"`). Default 1000.
   */
  maxBuffer?: number;
  /** Attempts per batch, the first included; then the batch is dropped and reported (operation `"deliver"`). Default 5. */
  maxAttempts?: number;
  /** Seconds: the backoff ceiling of the first retry, doubled per retry (full jitter). Default 0.5. */
  minDelay?: number;
  /** Seconds: the most one retry waits, a receiver's `Retry-After` included. Default 30. */
  maxDelay?: number;
  /**
   * Seconds one `deliver` call may take; then its `signal` is aborted and the attempt counts as a
   * transient failure, so a `deliver` that never settles cannot hold the sink. Default 30.
   */
  deliveryTimeout?: number;
  /**
   * Seconds `flush()` (and the flush of `shutdown()`) waits at most. Records still waiting then stay
   * buffered after `flush()`, and are reported as dropped by `shutdown()`. Default 60.
   */
  flushTimeout?: number;
  /**
   * Receives every record the sink gave up on, as a `SessionError` with code `RECORDS_DROPPED`
   * (its `cause` is the last delivery error) and the records in `context.records`; `operation`
   * says why: `"deliver"` (a permanent failure, or attempts used up), `"buffer"` (full),
   * `"shutdown"` (added after shutdown, or still waiting when it ended). Records `add` drops (a
   * full buffer, after shutdown) are reported together: when the current task ends, as soon as
   * `batchSize` of them wait, and before `flush()` resolves. Default: the first drop
   * of each operation is logged with `console.error`.
   */
  onError?: ErrorHandler;
}

/** The options, checked and in ms. */
export interface SinkConfig {
  deliver: DeliverRecords;
  batchSize: number;
  flushIntervalMs: number;
  maxBuffer: number;
  maxAttempts: number;
  minDelay: number;
  maxDelay: number;
  deliveryTimeoutMs: number;
  flushTimeoutMs: number;
  errors: ErrorSink;
}

export const sinkSource = "record-sink";

/** Checks every option up front, so a misconfigured sink fails where it is built, not at its first drop. */
export function sinkConfig(options: RecordSinkOptions): SinkConfig {
  if (typeof options !== "object" || options === null) invalid("options", "an object with deliver", options);
  if (typeof options.deliver !== "function") {
    invalid("deliver", "a function (records, context) => Promise<void>", options.deliver);
  }
  const batchSize = integer(options.batchSize, "batchSize", 10, 1);
  const maxBuffer = integer(options.maxBuffer, "maxBuffer", 1000, batchSize);
  const minDelay = seconds(options.minDelay, "minDelay", 0.5, true);
  const maxDelay = seconds(options.maxDelay, "maxDelay", 30, true);
  if (maxDelay < minDelay) invalid("maxDelay", `≥ minDelay (${minDelay})`, maxDelay);
  return {
    deliver: options.deliver,
    batchSize,
    flushIntervalMs: seconds(options.flushInterval, "flushInterval", 5, true) * 1000,
    maxBuffer,
    maxAttempts: integer(options.maxAttempts, "maxAttempts", 5, 1),
    minDelay,
    maxDelay,
    deliveryTimeoutMs: seconds(options.deliveryTimeout, "deliveryTimeout", 30, false) * 1000,
    flushTimeoutMs: seconds(options.flushTimeout, "flushTimeout", 60, false) * 1000,
    errors: createErrorSink(sinkSource, options.onError),
  };
}

function integer(value: unknown, name: string, fallback: number, least: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < least) {
    invalid(name, `an integer ≥ ${least}`, value);
  }
  return value;
}

function seconds(value: unknown, name: string, fallback: number, zeroAllowed: boolean): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || (!zeroAllowed && value === 0)) {
    invalid(name, `a finite number of seconds ${zeroAllowed ? "≥ 0" : "> 0"}`, value);
  }
  return value;
}

function invalid(name: string, expected: string, value: unknown): never {
  throw new SessionError({
    code: "INVALID_OPTION",
    source: sinkSource,
    message: `${name} must be ${expected}, got ${describeValue(value)}.`,
  });
}
