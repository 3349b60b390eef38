import type { SessionErrorCode } from "@threadline/session-core";
import type { Context } from "hono";

/** `401`: the `userId` resolver found no user and `onMissingUser` is `"reject"`. */
export function missingUserResponse(c: Context): Response {
  return c.json({ error: "unauthenticated", code: "MISSING_USER" }, 401);
}

/** `400`: the resolver returned a string that cannot be a user id. The message says why, without echoing long input. */
export function invalidUserResponse(c: Context, message: string): Response {
  return c.json({ error: "invalid_user_id", code: "INVALID_USER_ID", message }, 400);
}

/**
 * `503`: the store failed and `onStoreError` is `"fail"`. The body names the code only: store
 * messages can carry host names and other internals.
 */
export function storeFailureResponse(c: Context, code: SessionErrorCode): Response {
  return c.json({ error: "session_store_unavailable", code }, 503);
}
