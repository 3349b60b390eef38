import { SessionError } from "@threadline/session-core";

/** `STORE_UNAVAILABLE` for a binding call that threw: the backend could not be reached or refused. */
export function storeUnavailable(source: string, what: string, cause: unknown): SessionError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new SessionError({
    code: "STORE_UNAVAILABLE",
    source,
    message: `Could not ${what}: ${reason}. Retry the request; if it keeps failing, check the binding in your wrangler config.`,
    cause,
  });
}

/** A short, safe description of a bad option value (never the whole value). */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "string")
    return value.length > 40 ? `a ${value.length}-character string` : JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return typeof value;
}
