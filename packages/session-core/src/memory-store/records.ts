import type { ResolvedSession, SessionEndEvent, SessionEndReason, SessionRecord, SessionSummary } from "../store.js";
import { activeSummary, endedSummary, keptHistory } from "../store-kit/history.js";
import { type Entry, isLive, isUnclaimedExpiry } from "./entry.js";

export function toRecord(entry: Entry): SessionRecord {
  const record: SessionRecord = {
    sessionId: entry.sessionId,
    namespace: entry.namespace,
    userId: entry.userId,
    createdAt: entry.createdAt,
    lastActivityAt: entry.lastActivityAt,
    expiresAt: entry.expiresAt,
    turns: entry.turns,
  };
  if (entry.previousSessionId !== undefined) record.previousSessionId = entry.previousSessionId;
  const runs = entry.kept?.runs;
  if (runs !== undefined) record.totals = { ...runs.totals };
  return record;
}

// Spelled out rather than `{ ...toRecord(entry), isNew }`: this is on the hit path.
export function toSession(entry: Entry, isNew: boolean): ResolvedSession {
  const session: ResolvedSession = {
    sessionId: entry.sessionId,
    namespace: entry.namespace,
    userId: entry.userId,
    createdAt: entry.createdAt,
    lastActivityAt: entry.lastActivityAt,
    expiresAt: entry.expiresAt,
    turns: entry.turns,
    isNew,
  };
  if (entry.previousSessionId !== undefined) session.previousSessionId = entry.previousSessionId;
  const runs = entry.kept?.runs;
  if (runs !== undefined) session.totals = { ...runs.totals };
  return session;
}

/** Why the entry's session ran out of time: its maximum duration when that bound came first, else inactivity. */
export function timeEndReason(entry: Entry): SessionEndReason {
  return entry.expiresAt >= entry.deadline ? "max-duration" : "expired";
}

export function endOf(entry: Entry, reason: SessionEndReason, endedAt: number): SessionEndEvent {
  return { session: toRecord(entry), reason, endedAt };
}

/**
 * The entry's sessions with the asked status, newest first: the live one, the ended ones kept
 * for history, and an expired one no call has claimed yet if `retentionMs` would keep it.
 */
export function entrySummaries(
  entry: Entry,
  now: number,
  status: "active" | "ended" | "all",
  retentionMs: number,
): SessionSummary[] {
  const summaries: SessionSummary[] = [];
  if (status !== "ended" && isLive(entry, now)) summaries.push(activeSummary(toRecord(entry)));
  if (status === "active") return summaries;
  if (isUnclaimedExpiry(entry, now) && now < entry.expiresAt + retentionMs) {
    summaries.push(endedSummary(endOf(entry, timeEndReason(entry), entry.expiresAt)));
  }
  for (const end of keptHistory(entry.kept?.history, now)) summaries.push(endedSummary(end));
  return summaries;
}
