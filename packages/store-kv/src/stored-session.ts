import {
  distinctSessionId,
  type ResolvedSession,
  SessionError,
  type SessionKey,
  type SessionRecord,
} from "@threadline/session-core";

/**
 * A session as both stores keep it. `baseId` and `sequence` survive the session (in a
 * tombstone after `delete`, in the expired value until it is collected) so the next session of
 * the key gets a different id even within the same second (`distinctSessionId`).
 */
export interface StoredSession extends SessionRecord {
  /** Format version of the stored value. */
  v: 1;
  /** The candidate id this session was created from. */
  baseId: string;
  /** How many sessions this key has had, this one included. */
  sequence: number;
  /** Ended by `delete`: kept only as a tombstone until `expiresAt`. */
  ended: boolean;
}

export function isLive(session: StoredSession | null | undefined, now: number): session is StoredSession {
  return session != null && !session.ended && now < session.expiresAt;
}

/** The session that replaces `previous` (live, expired, ended or absent) at `now`. */
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
    sessionId: distinctSessionId(candidate, previous?.baseId, sequence),
    namespace: key.namespace,
    userId: key.userId,
    baseId: candidate,
    sequence,
    createdAt: now,
    lastActivityAt: now,
    expiresAt: now + timeoutMs,
    ended: false,
  };
}

export function renewed(session: StoredSession, now: number, timeoutMs: number): StoredSession {
  return { ...session, lastActivityAt: now, expiresAt: now + timeoutMs };
}

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

export function toResolved(session: StoredSession, isNew: boolean): ResolvedSession {
  return { ...toRecord(session), isNew };
}

/** Reads a stored value back, or throws `STORE_ERROR` when it is not one this version wrote. */
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
      "A stored session is not in a format this version understands (written by a newer version, or edited by hand). Upgrade @threadline/store-kv, or delete the key.",
    cause,
  });
}
