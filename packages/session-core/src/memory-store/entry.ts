import type { HistoryEntry } from "../store-kit/history.js";
import type { StoredRuns } from "../store-kit/runs.js";
import type { SessionItems } from "./session-items.js";

/**
 * One (namespace, userId) pair in the memory store: its current session, or the tombstone of the
 * last one, with the id history the next session needs. Entries are mutated in place (the hit
 * path renews without allocating) and linked into two lists: by last activity within their
 * timeout (for sweeps and eviction) and by insertion within their namespace (for listing).
 */
export interface Entry {
  readonly namespace: string;
  readonly userId: string;
  sessionId: string;
  baseId: string;
  sequence: number;
  createdAtHighWater: number;
  createdAt: number;
  lastActivityAt: number;
  expiresAt: number;
  /** `createdAt + maxDuration`, or `Infinity` for none. */
  deadline: number;
  turns: number;
  previousSessionId: string | undefined;
  /**
   * Ended and its end claimed (closed, or claimed by a sweep): kept as a tombstone so the next
   * id differs, until it would have expired, or longer while it has history.
   */
  ended: boolean;
  endedAt: number;
  /** What the pair keeps besides its session, rarely present: one field instead of three on every entry. */
  kept: Kept | undefined;
  /** Conversation items, with the operation ids applied to them. */
  items: SessionItems | undefined;
  /** Position in the namespace's listing order; grows with every insertion, never reused. */
  readonly listOrder: number;
  // Links of the expiry queue of the entry's timeout.
  queue: ExpiryQueue | undefined;
  previous: Entry | undefined;
  next: Entry | undefined;
  // Links of the namespace's listing order.
  listPrevious: Entry | undefined;
  listNext: Entry | undefined;
}

/** What an entry keeps besides its session. */
export interface Kept {
  /** Ended sessions kept for the retention, newest first. */
  history?: HistoryEntry[] | undefined;
  /** The ended session's items kept for the next session to take once (carry-over), until `until`. */
  carried?: { sessionId: string; texts: string[]; until: number } | undefined;
  /** The live session's run records and totals. */
  runs?: StoredRuns | undefined;
}

/** The entries of one timeout, oldest activity first. */
export interface ExpiryQueue {
  readonly timeoutMs: number;
  head: Entry | undefined;
  tail: Entry | undefined;
}

/** Whether the entry's session ran out of time by `now` and no call has claimed its end. */
export function isUnclaimedExpiry(entry: Entry, now: number): boolean {
  return !entry.ended && now >= entry.expiresAt;
}

export function isLive(entry: Entry, now: number): boolean {
  return !entry.ended && now < entry.expiresAt;
}
