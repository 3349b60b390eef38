import { SessionError } from "../errors.js";

/**
 * The standard errors of a store, so every store says the same thing the same way. Store option
 * mistakes use `new SessionError({ code: "INVALID_OPTION", source, message })` directly.
 */

/** `SESSION_ENDED`: an items write named a session that is no longer the key's live session. */
export function sessionEndedError(source: string, sessionId: string): SessionError {
  return new SessionError({
    code: "SESSION_ENDED",
    source,
    message: `Session ${sessionId} is not the live session of this user any more; its items were not stored. Resolve the session again and write to the new one.`,
  });
}

/**
 * `STORE_UNAVAILABLE`: the backend could not be reached, refused or timed out. Only for failures
 * where retrying can help; a bad reply or a bug is `STORE_ERROR`.
 *
 * @param what what the store tried, for the message: `"resolve the session"`
 * @param hint what to check, e.g. `"check that Redis is running"`
 */
export function storeUnavailableError(source: string, what: string, cause: unknown, hint?: string): SessionError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new SessionError({
    code: "STORE_UNAVAILABLE",
    source,
    message: `Could not ${what}: ${reason}. Retry the call${hint ? `; if it keeps failing, ${hint}` : ""}.`,
    cause,
  });
}
