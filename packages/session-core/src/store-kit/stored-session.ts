import { SessionError } from "../errors.js";
import { distinctSessionId } from "../session-id.js";
import type {
  ResolvedSession,
  ResolveRequest,
  SessionEndEvent,
  SessionEndReason,
  SessionKey,
  SessionRecord,
} from "../store.js";

/**
 * A session as a store written in TypeScript keeps it, with what the store must remember so the
 * key's next session gets a different id (`distinctSessionId`): the base id, a creation counter and
 * a high-water mark of creation times. An ended session stays as a tombstone (`ended: true`, no
 * data) whose end has been claimed. Plain data: a store may keep it as an object or as JSON (KV,
 * Durable Object storage).
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
  /** `createdAt + maxDuration` of the manager that created it (ms since epoch); absent for none. */
  deadline?: number;
  /** Ended and its end claimed: kept only as a tombstone (and in history for the retention). */
  ended: boolean;
  /** When it ended, once `ended`. */
  endedAt?: number;
  /** Why it ended, once `ended`. */
  endReason?: SessionEndReason;
}

/** Whether `session` is live at `now`: present, not ended, and `now < expiresAt`. */
export function isLive(session: StoredSession | null | undefined, now: number): session is StoredSession {
  return session != null && !session.ended && now < session.expiresAt;
}

/** Whether `session` ended by time at or before `now` and no call has claimed that end yet. */
export function isUnclaimedExpiry(session: StoredSession | null | undefined, now: number): session is StoredSession {
  return session != null && !session.ended && now >= session.expiresAt;
}

/**
 * Why a session that ran out of time ended: its maximum duration when that bound came first
 * (or together with the inactivity timeout), else inactivity.
 */
export function timeEndReason(session: { expiresAt: number; deadline?: number | undefined }): SessionEndReason {
  return session.deadline !== undefined && session.expiresAt >= session.deadline ? "max-duration" : "expired";
}

/** The end of `session` as the event every store hands out. */
export function endEvent(session: StoredSession, reason: SessionEndReason, endedAt: number): SessionEndEvent {
  return { session: toRecord(session), reason, endedAt };
}

/** `session` with its end claimed: a tombstone that keeps the id history, its times and no data. */
export function ended<T extends StoredSession>(session: T, reason: SessionEndReason, endedAt: number): T {
  return { ...session, ended: true, endReason: reason, endedAt };
}

/** `expiresAt` of a session renewed at `now`: the inactivity bound, capped by its deadline. */
export function expiryAt(now: number, timeoutMs: number, deadline: number | undefined): number {
  const idle = now + timeoutMs;
  return deadline !== undefined && deadline < idle ? deadline : idle;
}

/** `session` renewed at `now`: live for `timeoutMs` more (capped by its deadline). Counts a turn when `turn`. */
export function renewed<T extends StoredSession>(session: T, now: number, timeoutMs: number, turn = false): T {
  return {
    ...session,
    lastActivityAt: now,
    expiresAt: expiryAt(now, timeoutMs, session.deadline),
    turns: turn ? session.turns + 1 : session.turns,
  };
}

/** What {@link resolveStored} decided. */
export interface StoredResolution {
  /** The session to store: renewed, or new. */
  session: StoredSession;
  isNew: boolean;
  /** The previous session's end, claimed by this resolve. */
  ended?: SessionEndEvent;
}

/**
 * The whole `resolve` rule on stored data: renew the live session (one more turn), or end it
 * (`"replaced"`, `"max-turns"`, or the time bound it passed, claimed here unless it was already)
 * and create the next one. Pure: the caller stores `session` (and the end in history) in one
 * atomic step. Calls `request.proposeSessionId()` only when it creates.
 */
export function resolveStored(previous: StoredSession | null | undefined, request: ResolveRequest): StoredResolution {
  const { now, timeoutMs } = request;
  let ending: SessionEndEvent | undefined;
  if (previous != null && !previous.ended) {
    if (now >= previous.expiresAt) ending = endEvent(previous, timeEndReason(previous), previous.expiresAt);
    else if (request.forceNew) ending = endEvent(previous, "replaced", now);
    else if (request.maxTurns !== undefined && previous.turns >= request.maxTurns) {
      ending = endEvent(previous, "max-turns", now);
    } else {
      return { session: renewed(previous, now, timeoutMs, true), isNew: false };
    }
  }
  const session = nextSession(previous, request, request.proposeSessionId(), request);
  const previousSessionId =
    ending !== undefined ? ending.session.sessionId : previousWithinRetention(previous, now, request.retentionMs);
  if (previousSessionId !== undefined) session.previousSessionId = previousSessionId;
  return ending === undefined ? { session, isNew: true } : { session, isNew: true, ended: ending };
}

/** The id of `previous` when it is an ended session still within `retentionMs` of its end. */
function previousWithinRetention(
  previous: StoredSession | null | undefined,
  now: number,
  retentionMs: number,
): string | undefined {
  if (previous?.ended !== true || previous.endedAt === undefined) return undefined;
  return now < previous.endedAt + retentionMs ? previous.sessionId : undefined;
}

/**
 * The session that replaces `previous` (live, expired, ended or absent) at `now`: a new id that
 * differs from every earlier id of the key the store remembers, fresh times, turn 1.
 */
export function nextSession(
  previous: StoredSession | null | undefined,
  key: SessionKey,
  candidate: string,
  limits: { now: number; timeoutMs: number; maxDurationMs?: number | undefined },
): StoredSession {
  const { now, timeoutMs, maxDurationMs } = limits;
  const sequence = (previous?.sequence ?? 0) + 1;
  const deadline = maxDurationMs === undefined ? undefined : now + maxDurationMs;
  const session: StoredSession = {
    v: 1,
    sessionId: distinctSessionId(candidate, previous ?? undefined, sequence, now),
    namespace: key.namespace,
    userId: key.userId,
    baseId: candidate,
    sequence,
    createdAtHighWater: Math.max(now, previous?.createdAtHighWater ?? now),
    createdAt: now,
    lastActivityAt: now,
    expiresAt: expiryAt(now, timeoutMs, deadline),
    turns: 1,
    ended: false,
  };
  if (deadline !== undefined) session.deadline = deadline;
  return session;
}

/** The public record of a stored session (what `get`, `touch` and `list` return). */
export function toRecord(session: StoredSession): SessionRecord {
  const record: SessionRecord = {
    sessionId: session.sessionId,
    namespace: session.namespace,
    userId: session.userId,
    createdAt: session.createdAt,
    lastActivityAt: session.lastActivityAt,
    expiresAt: session.expiresAt,
    turns: session.turns,
  };
  if (session.previousSessionId !== undefined) record.previousSessionId = session.previousSessionId;
  return record;
}

/** The public record of a stored session as `resolve` returns it. */
export function toResolved(resolution: StoredResolution): ResolvedSession {
  const resolved: ResolvedSession = { ...toRecord(resolution.session), isNew: resolution.isNew };
  if (resolution.ended !== undefined) resolved.ended = resolution.ended;
  return resolved;
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
    typeof session.turns === "number" &&
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
