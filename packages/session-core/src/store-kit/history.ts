import { SessionError } from "../errors.js";
import type { ListPage, ListRequest, SessionEndEvent, SessionRecord, SessionSummary } from "../store.js";
import { describeValue } from "../validation.js";
import type { StoredRuns } from "./runs.js";

/** An ended session kept for history, until `keepUntil` (ms since epoch). */
export interface HistoryEntry extends SessionEndEvent {
  keepUntil: number;
  /** Its run records, on stores that keep them. */
  runs?: StoredRuns;
}

/**
 * Most ended sessions one pair keeps, newest first, whatever the retention: a client that forces
 * a new session per request cannot grow its history without a bound.
 */
export const MAX_HISTORY_PER_USER = 1000;

/**
 * `history` (newest first) with `end` added in front when `retentionMs` keeps it, and without
 * entries past their retention or beyond {@link MAX_HISTORY_PER_USER}. Returns a new array.
 */
export function historyWith(
  history: readonly HistoryEntry[] | undefined,
  end: SessionEndEvent,
  retentionMs: number,
  now: number,
): HistoryEntry[] {
  const kept = keptHistory(history, now);
  const keepUntil = end.endedAt + retentionMs;
  // Its own copy of the session: what history later learns (a late run's totals) must not reach
  // the end event already handed out.
  if (keepUntil > now) kept.unshift({ ...end, session: { ...end.session }, keepUntil });
  if (kept.length > MAX_HISTORY_PER_USER) kept.length = MAX_HISTORY_PER_USER;
  return kept;
}

/** The entries of `history` still within their retention at `now`. */
export function keptHistory(history: readonly HistoryEntry[] | undefined, now: number): HistoryEntry[] {
  return history === undefined ? [] : history.filter((entry) => now < entry.keepUntil);
}

/** A live session as `list` returns it. */
export function activeSummary(record: SessionRecord): SessionSummary {
  return { ...record, status: "active" };
}

/** An ended session as `list` returns it. */
export function endedSummary(end: SessionEndEvent): SessionSummary {
  return { ...end.session, status: "ended", endedAt: end.endedAt, endReason: end.reason };
}

/**
 * One page of one user's sessions: the live one (if any, and asked for) then the ended ones,
 * newest first. `sessions` must already be in that order (the order the store keeps them in:
 * creation times alone cannot order sessions created in one millisecond). The cursor names the
 * last session returned, so a page resumes after it even when older history was pruned in
 * between; if that session is gone, it resumes at the first session created before it.
 */
export function userSessionsPage(sessions: readonly SessionSummary[], request: ListRequest, source: string): ListPage {
  const limit = listLimit(request.limit, source);
  const start = request.cursor === undefined ? 0 : resumeIndex(sessions, decodeUserCursor(request.cursor, source));
  const page = sessions.slice(start, start + limit);
  const last = page.at(-1);
  return start + limit < sessions.length && last !== undefined
    ? { sessions: page, cursor: JSON.stringify([last.createdAt, last.sessionId]) }
    : { sessions: page };
}

/** Where a page resumes in newest-first `sessions`, after the cursor's session. */
export function resumeIndex(sessions: readonly SessionSummary[], after: [number, string]): number {
  const found = sessions.findIndex((session) => session.sessionId === after[1]);
  if (found !== -1) return found + 1;
  const older = sessions.findIndex((session) => session.createdAt < after[0]);
  return older === -1 ? sessions.length : older;
}

/** The page size of a listing: `limit` (default 100), a whole number ≥ 1. */
export function listLimit(limit: number | undefined, source: string): number {
  if (limit === undefined) return 100;
  if (Number.isInteger(limit) && limit >= 1) return limit;
  throw new SessionError({
    code: "INVALID_OPTION",
    source,
    message: `limit must be a whole number ≥ 1, got ${describeValue(limit)}.`,
  });
}

/** Reads a cursor of {@link userSessionsPage}: the last session's creation time and id. */
export function decodeUserCursor(cursor: string, source: string): [number, string] {
  let value: unknown;
  try {
    value = typeof cursor === "string" ? JSON.parse(cursor) : undefined;
  } catch {
    value = undefined;
  }
  if (Array.isArray(value) && value.length === 2 && Number.isFinite(value[0]) && typeof value[1] === "string") {
    return [value[0], value[1]];
  }
  throw invalidCursor(source);
}

/** The error for a cursor a store did not hand out. */
export function invalidCursor(source: string): SessionError {
  return new SessionError({
    code: "INVALID_OPTION",
    source,
    message:
      "cursor is not one this store returned. Pass back the cursor of the previous page unchanged, or omit it to start over.",
  });
}
