import { SessionError } from "@threadline/session-core";

/** Shown as `[threadline] [redis] …` in every error the store raises. */
export const source = "redis";

// Replies Redis gives while it cannot serve: loading data after a restart, a script running
// too long, a cluster without quorum or mid-failover, a replica that was just demoted.
const unavailableReplies = new Set(["LOADING", "BUSY", "CLUSTERDOWN", "TRYAGAIN", "MASTERDOWN", "READONLY"]);
const replyCode = /^([A-Z][A-Z_-]*)(?: |$)/;

/**
 * The error code of a Redis error reply ("NOSCRIPT", "ERR", …), or `undefined` for anything
 * else: connection errors, timeouts and closed clients from either library.
 */
export function replyCodeOf(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  // ioredis: ReplyError (name); node-redis: ErrorReply / SimpleError / BlobError (class name).
  const kind = `${error.name} ${error.constructor?.name ?? ""}`;
  if (!/ReplyError|ErrorReply|SimpleError|BlobError/.test(kind)) return undefined;
  return replyCode.exec(error.message)?.[1];
}

/** True when Redis does not know the script: its cache was flushed or the server restarted. */
export function isNoScript(error: unknown): boolean {
  return replyCodeOf(error) === "NOSCRIPT";
}

/**
 * Turns whatever a client rejected with into a `SessionError`: `STORE_UNAVAILABLE` when Redis
 * could not be reached or could not serve, `STORE_ERROR` when it answered with an error.
 */
export function toSessionError(error: unknown, operation: string): SessionError {
  if (SessionError.isInstance(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = replyCodeOf(error);
  if (code !== undefined && !unavailableReplies.has(code)) {
    return new SessionError({
      code: "STORE_ERROR",
      source,
      message: `Redis rejected ${operation}: ${message}`,
      cause: error,
    });
  }
  if (error instanceof TypeError) {
    return new SessionError({
      code: "STORE_ERROR",
      source,
      message: `${operation} failed inside the client: ${message}. Pass a connected ioredis or node-redis client.`,
      cause: error,
    });
  }
  return new SessionError({
    code: "STORE_UNAVAILABLE",
    source,
    message: `Redis is unavailable for ${operation}: ${message}. The store retries on the next call; check that Redis is running and reachable.`,
    cause: error,
  });
}

/** The error for an operation that got no answer in time. */
export function timeoutError(operation: string, timeoutMs: number): SessionError {
  return new SessionError({
    code: "STORE_UNAVAILABLE",
    source,
    message: `Redis did not answer ${operation} within ${timeoutMs} ms (operationTimeoutMs). It may be down, paused or overloaded; the operation may still be applied if Redis answers later.`,
  });
}

/** The error for a reply the store cannot read (e.g. a client configured to return Buffers or type-mapped replies). */
export function unexpectedReply(operation: string, reply: unknown): SessionError {
  const shape = Array.isArray(reply) ? `an array of ${reply.length}` : reply === null ? "null" : typeof reply;
  return new SessionError({
    code: "STORE_ERROR",
    source,
    message: `Redis answered ${operation} with ${shape}, which the store cannot read. Use a client with default reply types.`,
  });
}
