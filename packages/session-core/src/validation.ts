import { SessionError, type SessionErrorCode } from "./errors.js";

/**
 * Longest accepted user id or namespace, in UTF-16 code units (JavaScript string length).
 * Long enough for emails, phone numbers, UUIDs and JWT subjects; short enough that every
 * store can build a key from it.
 */
export const MAX_ID_LENGTH = 256;

const nonWhitespace = /\S/;

/**
 * Throws a `SessionError` unless `value` is a usable user id or namespace: a string of 1 to
 * {@link MAX_ID_LENGTH} characters that is not all whitespace and is well-formed Unicode
 * (a lone surrogate would not survive the UTF-8 round trip of Redis or KV). Any other
 * character is legal and stored unchanged.
 *
 * @param source where the id was passed, for the message tag (`"hono"`); omit in the core
 */
export function assertValidId(value: unknown, what: "userId" | "namespace", source?: string): asserts value is string {
  const code: SessionErrorCode = what === "userId" ? "INVALID_USER_ID" : "INVALID_NAMESPACE";
  if (typeof value !== "string") {
    throw new SessionError({
      code,
      source,
      message: `${what} must be a string, got ${describeValue(value)}. Pass the ${what === "userId" ? "user's stable id (e.g. their account id or phone number)" : "namespace as a string"}.`,
    });
  }
  const length = value.length;
  if (length === 0 || length > MAX_ID_LENGTH) {
    throw new SessionError({
      code,
      source,
      message: `${what} must be 1 to ${MAX_ID_LENGTH} characters long, got ${length}. Hash longer ids before passing them.`,
    });
  }
  // An id that starts with a visible ASCII character is not blank, so the common case skips
  // the whitespace scan and pays only for the (native) well-formedness check.
  const first = value.charCodeAt(0);
  if ((first <= 32 || first >= 127) && !nonWhitespace.test(value)) {
    throw new SessionError({ code, source, message: `${what} must not be blank (only whitespace). Pass a real id.` });
  }
  if (!value.isWellFormed()) {
    throw new SessionError({
      code,
      source,
      message: `${what} contains a lone UTF-16 surrogate and cannot be stored unchanged. Pass well-formed Unicode.`,
    });
  }
}

/** Converts an inactivity timeout in seconds to ms, or throws `INVALID_TIMEOUT`. */
export function timeoutToMs(seconds: unknown): number {
  if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds <= 0) {
    throw new SessionError({
      code: "INVALID_TIMEOUT",
      message: `inactivityTimeout must be a positive, finite number of seconds, got ${describeValue(seconds)}. The default is 120.`,
    });
  }
  return Math.max(1, Math.round(seconds * 1000));
}

/** A short, safe description of a bad value for error messages (never the whole value). */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "string")
    return value.length > 40 ? `a ${value.length}-character string` : JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return typeof value;
}
