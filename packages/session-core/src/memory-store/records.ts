import type { ResolvedSession, SessionRecord } from "../store.js";
import type { Entry } from "./entry.js";

export function toRecord(entry: Entry): SessionRecord {
  return {
    sessionId: entry.sessionId,
    namespace: entry.namespace,
    userId: entry.userId,
    createdAt: entry.createdAt,
    lastActivityAt: entry.lastActivityAt,
    expiresAt: entry.expiresAt,
  };
}

// Spelled out rather than `{ ...toRecord(entry), isNew }`: this is on the hit path.
export function toSession(entry: Entry, isNew: boolean): ResolvedSession {
  return {
    sessionId: entry.sessionId,
    namespace: entry.namespace,
    userId: entry.userId,
    createdAt: entry.createdAt,
    lastActivityAt: entry.lastActivityAt,
    expiresAt: entry.expiresAt,
    isNew,
  };
}
