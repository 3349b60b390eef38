import { SessionError } from "@threadline/session-core";
import { storeUnavailableError } from "@threadline/session-core/store-kit";
import { ClientNotConnected } from "./client.js";

/** Shown as `[threadline] [redis] …` in every error the store raises. */
export const source = "redis";
const retryHint = "check that Redis is running and reachable (the client reconnects by itself)";

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

// What the clients reject with when Redis cannot be reached: by class name (node-redis names
// none of its errors, so the constructor's name), by socket errno, or by message (ioredis throws
// plain Errors). Anything else is not an outage: a bug, a misused client, a full stack.
const connectionErrorClasses = new Set([
  // ioredis
  "MaxRetriesPerRequestError",
  "ClusterAllFailedError",
  // node-redis
  "ConnectionTimeoutError",
  "SocketTimeoutError",
  "ClientOfflineError",
  "SocketClosedUnexpectedlyError",
  "RootNodesUnavailableError",
  "ReconnectStrategyError",
  "DisconnectsClientError",
  "SocketTimeoutDuringMaintenanceError",
  "CommandTimeoutDuringMaintenanceError",
]);
const connectionErrnos = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
  "ENOTCONN",
]);
const connectionMessages =
  /^(Connection is closed|Stream isn't writeable|Reached the max retries per request limit|None of startup nodes is available|Failed to refresh slots cache|Cluster isn't ready|Connection timeout|Socket closed unexpectedly|The client is offline|All the root nodes are unavailable|connect E[A-Z]+)/;

/** True when the error says Redis could not be reached (not that it refused a command). */
export function isConnectionFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (connectionErrorClasses.has(error.name) || connectionErrorClasses.has(error.constructor?.name ?? "")) return true;
  const errno = (error as { code?: unknown }).code;
  if (typeof errno === "string" && connectionErrnos.has(errno)) return true;
  return connectionMessages.test(error.message);
}

/**
 * Turns whatever a client rejected with into a `SessionError`. `STORE_UNAVAILABLE` only when Redis
 * could not be reached or said it cannot serve now (loading, failover); `INVALID_OPTION` when the
 * client is not connected by the app (`ClientNotConnected`, from the transport); `STORE_ERROR` for everything else,
 * so an error never claims an outage that is not one.
 */
export function toSessionError(error: unknown, operation: string): SessionError {
  if (SessionError.isInstance(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = replyCodeOf(error);
  if (code !== undefined) {
    if (unavailableReplies.has(code)) return storeUnavailableError(source, operation, error, retryHint);
    return new SessionError({
      code: "STORE_ERROR",
      source,
      message: `Redis rejected ${operation}: ${message}`,
      cause: error,
    });
  }
  if (error instanceof ClientNotConnected) {
    return new SessionError({
      code: "INVALID_OPTION",
      source,
      message: `${operation} failed: ${error.advice}`,
      cause: error.original,
    });
  }
  if (isConnectionFailure(error)) return storeUnavailableError(source, operation, error, retryHint);
  return new SessionError({
    code: "STORE_ERROR",
    source,
    message: `${operation} failed in the client before Redis answered: ${message}`,
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
