import { SessionError } from "./errors.js";

/** What a custom id function gets: who the session is for and when it starts (ms since epoch). */
export interface SessionIdContext {
  namespace: string;
  userId: string;
  now: number;
}

/**
 * How new session ids look.
 * - `"timestamp"` (default): `{namespace}-{userId}-{YYYYMMDD-HHMMSS}` in UTC, as in the origin's
 *   guide: `support-user-123-20250107-120000`.
 * - `"timestamp-micro"`: the origin's newer form with a fraction of a second,
 *   `support-user-123-20250107-120000-123000` (JavaScript clocks give milliseconds, so the last
 *   three digits are zero).
 * - `"uuid"`: an opaque random UUID, for ids that must not reveal the user.
 * - a function: your own format. It must return a non-empty string.
 *
 * Whatever the format, a store never hands out the previous session's id again: when a new
 * session would get the same id (e.g. twice in one second), it gets a `-2`, `-3`, … suffix.
 */
export type SessionIdFormat = "timestamp" | "timestamp-micro" | "uuid" | ((context: SessionIdContext) => string);

/** Builds the id generator for a format, validating it once up front. */
export function sessionIdGenerator(format: SessionIdFormat): (context: SessionIdContext) => string {
  if (format === "timestamp") return timestampIds(false);
  if (format === "timestamp-micro") return timestampIds(true);
  if (format === "uuid") return () => crypto.randomUUID();
  if (typeof format === "function") return checked(format);
  throw new SessionError({
    code: "INVALID_OPTION",
    message: `idFormat must be "timestamp", "timestamp-micro", "uuid" or a function, got ${String(format)}.`,
  });
}

function checked(custom: (context: SessionIdContext) => string): (context: SessionIdContext) => string {
  return (context) => {
    const id: unknown = custom(context);
    // Ids are handed to other systems (headers, thread ids), so they must survive UTF-8 unchanged.
    if (typeof id !== "string" || id.length === 0 || !id.isWellFormed()) {
      throw new SessionError({
        code: "INVALID_SESSION_ID",
        message:
          "The custom idFormat function must return a non-empty string of well-formed Unicode (no lone surrogates).",
      });
    }
    return id;
  };
}

/**
 * `{namespace}-{userId}-{YYYYMMDD-HHMMSS}` in UTC, optionally followed by `-{microseconds}`.
 * Formatting the date is the costliest step of creating a session and ids made in the same
 * second share it, so each generator remembers its last stamp.
 */
function timestampIds(withMicroseconds: boolean): (context: SessionIdContext) => string {
  let cachedSecond = Number.NaN;
  let cachedStamp = "";
  return (context) => {
    const second = Math.floor(context.now / 1000);
    if (second !== cachedSecond) {
      cachedStamp = utcStamp(second * 1000);
      cachedSecond = second;
    }
    const base = `${context.namespace}-${context.userId}-${cachedStamp}`;
    if (!withMicroseconds) return base;
    const microseconds = (context.now - second * 1000) * 1000;
    return `${base}-${String(Math.floor(microseconds)).padStart(6, "0")}`;
  };
}

/** `YYYYMMDD-HHMMSS` in UTC for a time in ms since epoch. */
export function utcStamp(now: number): string {
  const iso = new Date(now).toISOString(); // 2025-01-07T12:00:00.000Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}-${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`;
}

/** What a store remembers of a key's past sessions, for {@link distinctSessionId}. */
export interface SessionIdHistory {
  /** The candidate the key's previous session was created from. */
  baseId: string;
  /**
   * The latest creation time (ms since epoch) of any session this key has had: a high-water
   * mark, never lowered, so a late proposal from a process whose clock lags cannot reuse an id.
   */
  createdAtHighWater: number;
}

/**
 * The id a store gives a new session: the candidate, with the store's creation counter
 * appended (`…-120000-2`) when the candidate might repeat an earlier id of the same key. That is
 * when it equals the previous session's base id, or when it is proposed for a second (`now`)
 * no later than the second of the key's latest creation: ids of the default formats are made
 * from that second, so a proposal from the same or an earlier second (a second session within
 * one second, a process whose clock lags) could repeat one. Unsuffixed ids therefore come from
 * strictly increasing seconds and suffixed ones carry a counter that only grows, so a key never
 * sees an id twice while the store remembers its history. Exported for store authors; a
 * server-side script must apply the same rule.
 *
 * @param candidate the id the manager proposed for the new session
 * @param history what the store remembers of the key's earlier sessions; `undefined` for a key it has never seen
 * @param sequence how many sessions this key has had, counting the new one (1 for the first); must only grow
 * @param now the time the candidate was proposed for (ms since epoch): the manager's `request.now`,
 *   the clock ids are stamped from. A store that keeps times on its own clock (a Redis server's)
 *   must still compare and record this one, or a lagging process could repeat an id.
 */
export function distinctSessionId(
  candidate: string,
  history: SessionIdHistory | undefined,
  sequence: number,
  now: number,
): string {
  if (history === undefined) return candidate;
  const repeatsPossible =
    candidate === history.baseId || Math.floor(now / 1000) <= Math.floor(history.createdAtHighWater / 1000);
  return repeatsPossible ? `${candidate}-${sequence}` : candidate;
}
