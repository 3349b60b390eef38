import { SessionError } from "../errors.js";
import { distinctSessionId } from "../session-id.js";
import type { ResolvedSession, SessionKey, SessionRecord } from "../store.js";

/**
 * A session as a store written in TypeScript keeps it, with what the store must remember so the
 * key's next session gets a different id (`distinctSessionId`): the base id, a creation counter and
 * a high-water mark of creation times. An ended session stays as a tombstone (`ended: true`, no
 * data) until it would have expired. Plain data: a store may keep it as an object (memory) or as
 * JSON (KV, Durable Object storage).
 */
export interface StoredSession extends SessionRecord {
  /** Format version of the stored value. */
  v: 1;
  /** The candidate id this session was created from. */
  baseId: string;
  /** How many sessions this key has had, this one included. */
  sequence: number;
  /** The latest `createdAt` this key has ever had (ms since epoch); never lowered. */
  createdAtHighWater: number;
  /** Ended by `close`: kept only as a tombstone until `expiresAt`. */
  ended: boolean;
}

/** Whether `session` is live at `now`: present, not ended, and `now < expiresAt`. */
export function isLive(session: StoredSession | null | undefined, now: number): session is StoredSession {
  return session != null && !session.ended && now < session.expiresAt;
}

/**
 * The session that replaces `previous` (live, expired, ended or absent) at `now`: a new id that
 * differs from every earlier id of the key the store remembers, fresh times, turn count 1.
 */
export function nextSession(
  previous: StoredSession | null | undefined,
  key: SessionKey,
  candidate: string,
  now: number,
  timeoutMs: number,
): StoredSession {
  const sequence = (previous?.sequence ?? 0) + 1;
  return {
    v: 1,
    sessionId: distinctSessionId(candidate, previous ?? undefined, sequence, now),
    namespace: key.namespace,
    userId: key.userId,
    baseId: candidate,
    sequence,
    createdAtHighWater: Math.max(now, previous?.createdAtHighWater ?? now),
    createdAt: now,
    lastActivityAt: now,
    expiresAt: now + timeoutMs,
    ended: false,
  };
}

/** `session` renewed at `now`: it stays live for `timeoutMs` more. */
export function renewed<T extends StoredSession>(session: T, now: number, timeoutMs: number): T {
  return { ...session, lastActivityAt: now, expiresAt: now + timeoutMs };
}

/** `session` ended by `close`: a tombstone that keeps the id history and no data. */
export function ended<T extends StoredSession>(session: T): T {
  return { ...session, ended: true };
}

/** The public record of a stored session (what `get`, `touch` and `list` return). */
export function toRecord(session: StoredSession): SessionRecord {
  return {
    sessionId: session.sessionId,
    namespace: session.namespace,
    userId: session.userId,
    createdAt: session.createdAt,
    lastActivityAt: session.lastActivityAt,
    expiresAt: session.expiresAt,
  };
}

/** The public record of a stored session as `resolve` returns it. */
export function toResolved(session: StoredSession, isNew: boolean): ResolvedSession {
  return { ...toRecord(session), isNew };
}

/** Reads a stored value back from JSON, or throws `STORE_ERROR` when it is not one this version wrote. */
export function parseStoredSession(text: string, source: string): StoredSession {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw corrupt(source, cause);
  }
  if (!isStoredSession(value)) throw corrupt(source, undefined);
  return value;
}

/** Whether `value` is a {@link StoredSession} this version wrote. */
export function isStoredSession(value: unknown): value is StoredSession {
  if (typeof value !== "object" || value === null) return false;
  const session = value as Partial<StoredSession>;
  return (
    session.v === 1 &&
    typeof session.sessionId === "string" &&
    typeof session.namespace === "string" &&
    typeof session.userId === "string" &&
    typeof session.baseId === "string" &&
    typeof session.sequence === "number" &&
    typeof session.createdAtHighWater === "number" &&
    typeof session.createdAt === "number" &&
    typeof session.lastActivityAt === "number" &&
    typeof session.expiresAt === "number" &&
    typeof session.ended === "boolean"
  );
}

function corrupt(source: string, cause: unknown): SessionError {
  return new SessionError({
    code: "STORE_ERROR",
    source,
    message:
      "A stored session is not in a format this version understands (written by a newer version, or edited by hand). Upgrade the store package, or delete the key.",
    cause,
  });
}
