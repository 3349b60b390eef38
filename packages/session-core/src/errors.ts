const brand = Symbol.for("threadline.session-error");

/**
 * Every failure threadline reports has one of these codes. They are stable: match on them,
 * not on messages.
 *
 * - `INVALID_USER_ID`, `INVALID_NAMESPACE`, `INVALID_TIMEOUT`, `INVALID_OPTION`,
 *   `INVALID_SESSION_ID`, `INVALID_ITEMS`: bad input, rejected before anything is stored.
 * - `SESSION_ENDED`: the session an operation names is no longer the user's live session.
 * - `ITEMS_TOO_LARGE`: one group of conversation items is larger than the session's bounds
 *   (`maxItems`, `maxItemBytes`) by itself; nothing was stored.
 * - `OPERATION_CONFLICT`: an items change reused an operation id with a different change;
 *   nothing was changed.
 * - `HISTORY_MISMATCH`: a `replace-suffix` change expected a suffix the session's items do not
 *   end with (another writer got there first); nothing was changed.
 * - `UNSUPPORTED`: the store lacks an optional capability the call needs.
 * - `STORE_UNAVAILABLE`: the store could not be reached (down, restarting, timed out).
 * - `STORE_ERROR`: the store answered with something unexpected.
 * - `DELIVERY_FAILED`: one attempt to deliver run records failed (a network error, a timeout, the
 *   receiver's status); `retryable` says whether the record sink tries again.
 * - `RECORDS_DROPPED`: the record sink gave up on records (a permanent failure, attempts used up,
 *   a full buffer, shutdown); the records are in the error context's `records`.
 */
export type SessionErrorCode =
  | "INVALID_USER_ID"
  | "INVALID_NAMESPACE"
  | "INVALID_TIMEOUT"
  | "INVALID_OPTION"
  | "INVALID_SESSION_ID"
  | "INVALID_ITEMS"
  | "SESSION_ENDED"
  | "ITEMS_TOO_LARGE"
  | "OPERATION_CONFLICT"
  | "HISTORY_MISMATCH"
  | "UNSUPPORTED"
  | "STORE_UNAVAILABLE"
  | "STORE_ERROR"
  | "DELIVERY_FAILED"
  | "RECORDS_DROPPED";

/** Options for {@link SessionError}. */
export interface SessionErrorOptions {
  code: SessionErrorCode;
  /** What went wrong and what to do about it. */
  message: string;
  /** Where it happened, e.g. `"redis"`; shown as `[threadline] [redis] …`. */
  source?: string;
  /** The underlying error, if any. */
  cause?: unknown;
  /**
   * Whether the same call may succeed if retried later. Default: true for `STORE_UNAVAILABLE`
   * (the backend was down or slow), false for every other code (the input or the state is wrong).
   */
  retryable?: boolean;
}

/**
 * The one error class of threadline. Check with `SessionError.isInstance(error)` rather than
 * `instanceof`, which fails when two copies of the package are installed.
 */
export class SessionError extends Error {
  override readonly name = "SessionError";
  readonly code: SessionErrorCode;
  /** Where it happened: a store (`"redis"`, `"memory"`) or an adapter (`"hono"`); absent for the core. */
  readonly source: string | undefined;
  /** Whether retrying the same call later can help (a store outage), or not (bad input, an ended session). */
  readonly retryable: boolean;

  constructor(options: SessionErrorOptions) {
    const tag = options.source ? `[threadline] [${options.source}]` : "[threadline]";
    super(`${tag} ${options.message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code;
    this.source = options.source;
    this.retryable = options.retryable ?? options.code === "STORE_UNAVAILABLE";
    Object.defineProperty(this, brand, { value: true });
  }

  /** True for any `SessionError`, from this copy of the package or another. */
  static isInstance(error: unknown): error is SessionError {
    return typeof error === "object" && error !== null && (error as { [brand]?: unknown })[brand] === true;
  }
}
