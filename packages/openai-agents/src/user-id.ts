import { assertValidId, SessionError } from "@threadline/session-core";
import { source } from "./options.js";

/**
 * The `INVALID_USER_ID` error for a user id that cannot key a session, naming where it came from
 * (`where`, e.g. `"hooks.run(…, { userId })"`), or `undefined` for a valid id. The core's check
 * never calls into the value (no `toString`), so a hostile object cannot throw from here.
 */
export function userIdError(value: unknown, where: string): SessionError | undefined {
  try {
    assertValidId(value, "userId");
    return undefined;
  } catch (error) {
    if (!SessionError.isInstance(error)) throw error;
    return new SessionError({
      code: "INVALID_USER_ID",
      source,
      message: `${where}: ${error.message.replace(/^\[threadline\] /, "")}`,
      cause: error,
    });
  }
}
