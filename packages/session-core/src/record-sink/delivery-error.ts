import { SessionError } from "../errors.js";

/** Options for {@link RecordDeliveryError}. */
export interface RecordDeliveryErrorOptions {
  /** What went wrong, e.g. `"the receiver answered 503"`. */
  message: string;
  /**
   * Whether another attempt may succeed. Default true: a failed delivery is retried unless it says
   * it is permanent (a 400 will be a 400 again), and a permanent one is dropped and reported at once.
   */
  retryable?: boolean;
  /** The receiver's HTTP status, when it answered. */
  status?: number;
  /** Seconds the receiver asked to wait before the next attempt (`Retry-After`). */
  retryAfter?: number;
  /** Where it happened, e.g. `"http-record-sink"`. */
  source?: string;
  /** The underlying error (a network error, an abort). */
  cause?: unknown;
}

/**
 * One failed attempt to deliver records (code `DELIVERY_FAILED`). A `deliver` function of a record
 * sink throws it to say how the sink should go on: `retryable: false` drops the batch at once (it
 * is reported, never retried), `retryAfter` sets the least wait before the next attempt. The sink
 * reads both fields from any thrown object, so other errors with `retryable: false` (a
 * `SessionError` for bad input) are permanent too; anything else is retried.
 */
export class RecordDeliveryError extends SessionError {
  /** The receiver's HTTP status, when it answered. */
  readonly status: number | undefined;
  /** Seconds the receiver asked to wait before the next attempt, when it said. */
  readonly retryAfter: number | undefined;

  constructor(options: RecordDeliveryErrorOptions) {
    super({
      code: "DELIVERY_FAILED",
      message: options.message,
      source: options.source,
      cause: options.cause,
      retryable: options.retryable ?? true,
    });
    this.status = options.status;
    this.retryAfter = options.retryAfter;
  }
}

/** True when `error` says another attempt cannot help (`retryable: false`). */
export function isPermanent(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { retryable?: unknown }).retryable === false;
}

/** The wait in seconds `error` asks for before the next attempt, or 0. */
export function retryAfterOf(error: unknown): number {
  if (typeof error !== "object" || error === null) return 0;
  const retryAfter = (error as { retryAfter?: unknown }).retryAfter;
  return typeof retryAfter === "number" && retryAfter > 0 && Number.isFinite(retryAfter) ? retryAfter : 0;
}
