import { SessionError } from "../errors.js";
import { distinctSessionId, type SessionIdHistory } from "../session-id.js";
import type {
  CarriedItems,
  CloseRequest,
  EndKeeping,
  ForgetRequest,
  ForgetResult,
  ItemsRequest,
  KeyAtTimeRequest,
  ListPage,
  ListRequest,
  ResolvedSession,
  ResolveRequest,
  SessionEndEvent,
  SessionItemStore,
  SessionRecord,
  SessionRunStore,
  SessionStore,
  SweepRequest,
  TouchRequest,
} from "../store.js";
import { historyWith, keptHistory, userSessionsPage } from "../store-kit/history.js";
import { describeValue } from "../validation.js";
import { type Entry, isLive, type Kept } from "./entry.js";
import { ExpiryQueues } from "./expiry-queues.js";
import { HistoryQueue } from "./history-queue.js";
import { entryItems } from "./items.js";
import { listPage } from "./listing.js";
import { Namespaces } from "./namespaces.js";
import { endOf, entrySummaries, timeEndReason, toRecord, toSession } from "./records.js";
import { entryRuns } from "./runs.js";

/** Options for {@link memoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Most sessions kept at once. Creating one more evicts the least recently active session.
   * Default: unbounded (expired sessions are still removed by the manager's cleanup).
   */
  maxSessions?: number;
}

/** The memory store, with its extras. It answers synchronously where the contract allows. */
export interface MemoryStore extends SessionStore {
  resolve(request: ResolveRequest): ResolvedSession;
  touch(request: TouchRequest): SessionRecord | null;
  get(request: KeyAtTimeRequest): SessionRecord | null;
  close(request: CloseRequest): SessionEndEvent | null;
  forget(request: ForgetRequest): ForgetResult;
  readonly items: SessionItemStore;
  readonly runs: SessionRunStore;
  sweep(request: SweepRequest): Promise<SessionEndEvent[]>;
  list(request: ListRequest): Promise<ListPage>;
  /** Sessions held, including expired ones not yet swept. */
  readonly size: number;
}

const source = "memory";

/**
 * Sessions in this process's memory: the default store, for one process and for tests.
 * Atomic (JavaScript runs one call at a time), resolve is O(1), cleanup costs in proportion to
 * what expired, and a full listing costs O(N).
 *
 * @example
 * const manager = new SessionManager({ store: memoryStore({ maxSessions: 100_000 }) });
 */
export function memoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  const maxSessions = options.maxSessions ?? Number.POSITIVE_INFINITY;
  if (!(maxSessions >= 1)) {
    throw new SessionError({
      code: "INVALID_OPTION",
      source,
      message: `maxSessions must be at least 1, got ${describeValue(options.maxSessions)}.`,
    });
  }

  const namespaces = new Namespaces();
  const queues = new ExpiryQueues();
  const historyQueue = new HistoryQueue();
  let size = 0;
  // What the store forgets when it removes an entry (sweep, eviction) it folds into two numbers,
  // so a pair that comes back can never get one of its old ids (see `historyOfNewPair`).
  const removed = { createdAtHighWater: Number.NEGATIVE_INFINITY, sequenceHighWater: 0 };

  function remove(entry: Entry): void {
    queues.unlink(entry);
    if (!namespaces.remove(entry)) return;
    size--;
    removed.createdAtHighWater = Math.max(removed.createdAtHighWater, entry.createdAtHighWater);
    removed.sequenceHighWater = Math.max(removed.sequenceHighWater, entry.sequence);
  }

  /**
   * The id history to assume for a pair the store holds nothing of. If any removed entry was
   * created in this second or later, this pair may be one of them: continue after every removed
   * sequence and treat the removed creations as its own, so its next id carries a suffix no old
   * id of it had. Otherwise every removed id came from an earlier second than this candidate.
   */
  function historyOfNewPair(now: number): { history: SessionIdHistory | undefined; sequence: number } {
    if (Math.floor(now / 1000) > Math.floor(removed.createdAtHighWater / 1000)) {
      return { history: undefined, sequence: 1 };
    }
    return {
      history: { baseId: "", createdAtHighWater: removed.createdAtHighWater },
      sequence: removed.sequenceHighWater + 1,
    };
  }

  function liveEntry(request: { namespace: string; userId: string; now: number }): Entry | undefined {
    const entry = namespaces.find(request.namespace, request.userId);
    return entry && isLive(entry, request.now) ? entry : undefined;
  }

  function liveSession(request: ItemsRequest): Entry | undefined {
    const entry = liveEntry(request);
    return entry && entry.sessionId === request.sessionId ? entry : undefined;
  }

  /** Ends and removes the least recently active entry to make room; returns its end when it had a session. */
  function evictOne(now: number): SessionEndEvent | undefined {
    const oldest = queues.leastRecentlyActive();
    if (oldest === undefined) return undefined;
    let end: SessionEndEvent | undefined;
    if (!oldest.ended) {
      end =
        now >= oldest.expiresAt
          ? endOf(oldest, timeEndReason(oldest), oldest.expiresAt)
          : endOf(oldest, "evicted", now);
    }
    remove(oldest);
    return end;
  }

  function create(request: ResolveRequest, previousSessionId: string | undefined): Entry {
    const { namespace, userId, now } = request;
    const candidate = request.proposeSessionId();
    const { history, sequence } = historyOfNewPair(now);
    const entry: Entry = {
      namespace,
      userId,
      sessionId: distinctSessionId(candidate, history, sequence, now),
      baseId: candidate,
      sequence,
      createdAtHighWater: now,
      createdAt: now,
      lastActivityAt: now,
      expiresAt: now,
      deadline: deadlineOf(request),
      turns: 1,
      previousSessionId,

      ended: false,
      endedAt: 0,
      kept: undefined,
      items: undefined,
      listOrder: namespaces.nextListOrder(),
      queue: undefined,
      previous: undefined,
      next: undefined,
      listPrevious: undefined,
      listNext: undefined,
    };
    namespaces.add(entry);
    size++;
    return entry;
  }

  function replace(entry: Entry, request: ResolveRequest, previousSessionId: string | undefined): void {
    const { now } = request;
    const candidate = request.proposeSessionId();
    entry.sequence++;
    entry.sessionId = distinctSessionId(candidate, entry, entry.sequence, now);
    entry.baseId = candidate;
    entry.createdAtHighWater = Math.max(entry.createdAtHighWater, now);
    entry.createdAt = now;
    entry.deadline = deadlineOf(request);
    entry.turns = 1;
    entry.previousSessionId = previousSessionId;
    entry.ended = false;
    entry.items = undefined;
    if (entry.kept !== undefined) entry.kept.runs = undefined;
  }

  /**
   * Marks the entry's session ended (its end now claimed), keeps it in history for `retentionMs`
   * and its items for the next session for `carryOverMs`.
   */
  function claimEnd(entry: Entry, end: SessionEndEvent, keeping: EndKeeping, now: number): void {
    entry.ended = true;
    entry.endedAt = end.endedAt;
    const runs = entry.kept?.runs;
    if (entry.kept !== undefined) entry.kept.runs = undefined;
    const carryUntil = end.endedAt + (keeping.carryOverMs ?? 0);
    if (carryUntil > now && entry.items !== undefined && entry.items.size > 0) {
      keptOf(entry).carried = { sessionId: entry.sessionId, texts: entry.items.last(undefined), until: carryUntil };
      historyQueue.add(entry, carryUntil);
    } else if (entry.kept !== undefined) {
      entry.kept.carried = undefined;
    }
    entry.items = undefined;
    const retentionMs = keeping.retentionMs;
    if (retentionMs <= 0 && entry.kept?.history === undefined) return;
    const history = historyWith(entry.kept?.history, end, retentionMs, now);
    keptOf(entry).history = history.length === 0 ? undefined : history;
    const kept = history[0];
    if (kept !== undefined && kept.session.sessionId === end.session.sessionId && runs !== undefined) {
      kept.runs = runs;
    }
    if (history[0] !== undefined && history[0].session.sessionId === end.session.sessionId) {
      historyQueue.add(entry, history[0].keepUntil);
    }
  }

  /** After its session's time ran out: drop the entry, unless it still holds history or carried items. */
  function retire(entry: Entry, now: number): void {
    pruneKept(entry, now);
    if (!keepsAnything(entry)) remove(entry);
    else queues.unlink(entry);
  }

  /** Drops history and carried items past their time. */
  function pruneKept(entry: Entry, now: number): void {
    const kept = entry.kept;
    if (kept === undefined) return;
    if (kept.history !== undefined) {
      const history = keptHistory(kept.history, now);
      kept.history = history.length === 0 ? undefined : history;
    }
    if (kept.carried !== undefined && now >= kept.carried.until) kept.carried = undefined;
  }

  /** The previous session's carried items, if still kept, handed out once. */
  function takeCarried(entry: Entry, now: number): CarriedItems | undefined {
    const carried = entry.kept?.carried;
    if (entry.kept !== undefined) entry.kept.carried = undefined;
    if (carried === undefined || now >= carried.until) return undefined;
    return { sessionId: carried.sessionId, items: carried.texts.map((text) => JSON.parse(text) as unknown) };
  }

  function renew(entry: Entry, now: number, timeoutMs: number): void {
    entry.lastActivityAt = now;
    const idle = now + timeoutMs;
    entry.expiresAt = Math.min(idle, entry.deadline);
    queues.moveToTail(entry, timeoutMs);
  }

  return {
    specificationVersion: "v1",
    name: source,
    capabilities: { atomic: true, exactRenewal: true, exactlyOnceEnds: true, history: true },
    items: entryItems(liveSession),
    runs: entryRuns((namespace, userId) => namespaces.find(namespace, userId)),
    get size() {
      return size;
    },
    // Plain values, not promises (the contract allows either): the hit path is the hottest
    // code in the library and this saves the manager a promise hop per call.
    resolve(request: ResolveRequest): ResolvedSession {
      const { now, timeoutMs } = request;
      let entry = namespaces.find(request.namespace, request.userId);
      if (entry !== undefined && !entry.ended && now < entry.expiresAt) {
        const maxTurns = request.maxTurns;
        if (!request.forceNew && (maxTurns === undefined || entry.turns < maxTurns)) {
          entry.turns++;
          renew(entry, now, timeoutMs);
          return toSession(entry, false);
        }
      }
      let ended: SessionEndEvent | undefined;
      let previousSessionId: string | undefined;
      let evicted: SessionEndEvent | undefined;
      let carried: CarriedItems | undefined;
      if (entry === undefined) {
        if (size >= maxSessions) evicted = evictOne(now);
        entry = create(request, undefined);
      } else {
        if (!entry.ended) {
          ended =
            now >= entry.expiresAt
              ? endOf(entry, timeEndReason(entry), entry.expiresAt)
              : endOf(entry, request.forceNew ? "replaced" : "max-turns", now);
          claimEnd(entry, ended, request, now);
          previousSessionId = entry.sessionId;
        } else if (now < entry.endedAt + request.retentionMs) {
          previousSessionId = entry.sessionId;
        }
        carried = takeCarried(entry, now);
        replace(entry, request, previousSessionId);
      }
      renew(entry, now, timeoutMs);
      const session = toSession(entry, true);
      if (ended !== undefined) session.ended = ended;
      if (evicted !== undefined) session.evicted = [evicted];
      if (carried !== undefined) session.carried = carried;
      return session;
    },
    touch(request: TouchRequest): SessionRecord | null {
      const entry = liveEntry(request);
      if (entry === undefined) return null;
      renew(entry, request.now, request.timeoutMs);
      return toRecord(entry);
    },
    get(request: KeyAtTimeRequest): SessionRecord | null {
      const entry = liveEntry(request);
      return entry ? toRecord(entry) : null;
    },
    close(request: CloseRequest): SessionEndEvent | null {
      const entry = liveEntry(request);
      if (entry === undefined) return null;
      if (request.sessionId !== undefined && entry.sessionId !== request.sessionId) return null;
      // The entry stays as a tombstone until it would have expired, so the next session's id
      // differs from this one even when created in the same second.
      const end = endOf(entry, "closed", request.now);
      claimEnd(entry, end, request, request.now);
      return end;
    },
    async sweep(request: SweepRequest): Promise<SessionEndEvent[]> {
      const { now } = request;
      const ends: SessionEndEvent[] = [];
      queues.removeExpired(now, (entry) => {
        if (!entry.ended) {
          const end = endOf(entry, timeEndReason(entry), entry.expiresAt);
          claimEnd(entry, end, request, now);
          ends.push(end);
        }
        retire(entry, now);
      });
      historyQueue.popDue(now, (entry) => {
        if (namespaces.find(entry.namespace, entry.userId) !== entry) return;
        pruneKept(entry, now);
        // Holding no session (no longer in an expiry queue), no history, no carried items: nothing left to keep.
        if (!keepsAnything(entry) && entry.queue === undefined) remove(entry);
      });
      return ends;
    },
    forget(request: ForgetRequest): ForgetResult {
      const { now } = request;
      const entry = namespaces.find(request.namespace, request.userId);
      if (entry === undefined) return { removed: 0 };
      let ended: SessionEndEvent | undefined;
      if (!entry.ended) {
        ended =
          now >= entry.expiresAt ? endOf(entry, timeEndReason(entry), entry.expiresAt) : endOf(entry, "forgotten", now);
      }
      const removed = (ended === undefined ? 0 : 1) + keptHistory(entry.kept?.history, now).length;
      remove(entry);
      return ended === undefined ? { removed } : { removed, ended };
    },
    async list(request: ListRequest): Promise<ListPage> {
      if (request.userId !== undefined) {
        const entry = request.namespace === undefined ? undefined : namespaces.find(request.namespace, request.userId);
        const summaries =
          entry === undefined
            ? []
            : entrySummaries(entry, request.now, request.status ?? "active", request.retentionMs ?? 0);
        return userSessionsPage(summaries, request, source);
      }
      return listPage(namespaces, request);
    },
  };
}

function keptOf(entry: Entry): Kept {
  entry.kept ??= {};
  return entry.kept;
}

/** Whether the entry still holds history or carried items (its session aside). */
function keepsAnything(entry: Entry): boolean {
  return entry.kept?.history !== undefined || entry.kept?.carried !== undefined;
}

function deadlineOf(request: ResolveRequest): number {
  return request.maxDurationMs === undefined ? Number.POSITIVE_INFINITY : request.now + request.maxDurationMs;
}
