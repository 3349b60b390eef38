import { SessionError } from "../errors.js";
import { distinctSessionId, type SessionIdHistory } from "../session-id.js";
import type {
  CloseRequest,
  ItemsRequest,
  KeyAtTimeRequest,
  ListPage,
  ListRequest,
  ResolvedSession,
  ResolveRequest,
  SessionItemStore,
  SessionRecord,
  SessionStore,
  TouchRequest,
} from "../store.js";
import { describeValue } from "../validation.js";
import { type Entry, isLive } from "./entry.js";
import { ExpiryQueues } from "./expiry-queues.js";
import { entryItems } from "./items.js";
import { listPage } from "./listing.js";
import { Namespaces } from "./namespaces.js";
import { toRecord, toSession } from "./records.js";

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
  close(request: CloseRequest): boolean;
  readonly items: SessionItemStore;
  sweep(now: number): Promise<number>;
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

  function create(request: ResolveRequest): Entry {
    const { namespace, userId, now } = request;
    if (size >= maxSessions) {
      const oldest = queues.leastRecentlyActive();
      if (oldest) remove(oldest);
    }
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
      ended: false,
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

  function replace(entry: Entry, request: ResolveRequest): void {
    const { now } = request;
    const candidate = request.proposeSessionId();
    entry.sequence++;
    entry.sessionId = distinctSessionId(candidate, entry, entry.sequence, now);
    entry.baseId = candidate;
    entry.createdAtHighWater = Math.max(entry.createdAtHighWater, now);
    entry.createdAt = now;
    entry.ended = false;
    entry.items = undefined;
  }

  return {
    specificationVersion: "v1",
    name: source,
    capabilities: { atomic: true, exactRenewal: true },
    items: entryItems(liveSession),

    get size() {
      return size;
    },

    // Plain values, not promises (the contract allows either): the hit path is the hottest
    // code in the library and this saves the manager a promise hop per call.
    resolve(request: ResolveRequest): ResolvedSession {
      const { now, timeoutMs } = request;
      let entry = namespaces.find(request.namespace, request.userId);
      if (entry !== undefined && !request.forceNew && isLive(entry, now)) {
        entry.lastActivityAt = now;
        entry.expiresAt = now + timeoutMs;
        queues.moveToTail(entry, timeoutMs);
        return toSession(entry, false);
      }
      if (entry === undefined) entry = create(request);
      else replace(entry, request);
      entry.lastActivityAt = now;
      entry.expiresAt = now + timeoutMs;
      queues.moveToTail(entry, timeoutMs);
      return toSession(entry, true);
    },

    touch(request: TouchRequest): SessionRecord | null {
      const entry = liveEntry(request);
      if (entry === undefined) return null;
      entry.lastActivityAt = request.now;
      entry.expiresAt = request.now + request.timeoutMs;
      queues.moveToTail(entry, request.timeoutMs);
      return toRecord(entry);
    },

    get(request: KeyAtTimeRequest): SessionRecord | null {
      const entry = liveEntry(request);
      return entry ? toRecord(entry) : null;
    },

    close(request: CloseRequest): boolean {
      const entry = liveEntry(request);
      if (entry === undefined) return false;
      if (request.sessionId !== undefined && entry.sessionId !== request.sessionId) return false;
      // Keep the entry (without its items) as a tombstone until it would have expired, so
      // the next session's id differs from this one even when created in the same second.
      entry.ended = true;
      entry.items = undefined;
      return true;
    },

    async sweep(now: number): Promise<number> {
      let expired = 0;
      queues.removeExpired(now, (entry) => {
        if (!entry.ended) expired++;
        remove(entry);
      });
      return expired;
    },

    async list(request: ListRequest): Promise<ListPage> {
      return listPage(namespaces, request);
    },
  };
}
