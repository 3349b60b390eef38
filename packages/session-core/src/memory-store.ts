import { SessionError } from "./errors.js";
import { encodeItems } from "./items.js";
import { distinctSessionId } from "./session-id.js";
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
} from "./store.js";
import { describeValue } from "./validation.js";

/** Options for {@link memoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Most sessions kept at once. Creating one more evicts the least recently active session.
   * Default: unbounded.
   */
  maxSessions?: number;
  /**
   * Seconds between background sweeps of expired sessions. The timer is `unref`'d (it never
   * keeps a process alive) and stops on `dispose()`. Default: no timer; expired sessions are
   * ignored on read and removed by `cleanupExpired()`.
   */
  sweepInterval?: number;
  /** Clock for the background sweep, in ms since epoch. Default `Date.now`. */
  now?: () => number;
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
  dispose(): Promise<void>;
  /** Sessions held, including expired ones not yet swept. */
  readonly size: number;
}

// One entry per key. Entries with the same timeout sit in one doubly linked list in order of
// last activity, so a renewal is an O(1) move to the tail, the oldest entry is at the head,
// and a sweep walks from the head only over what expired.
interface Entry {
  readonly namespace: string;
  readonly userId: string;
  sessionId: string;
  baseId: string;
  sequence: number;
  createdAtHighWater: number;
  createdAt: number;
  lastActivityAt: number;
  expiresAt: number;
  /** Closed: kept only as a tombstone so the next id differs, until it would have expired. */
  ended: boolean;
  /** Conversation items as JSON text. */
  items: string[] | undefined;
  queue: ExpiryQueue | undefined;
  previous: Entry | undefined;
  next: Entry | undefined;
}

interface ExpiryQueue {
  readonly timeoutMs: number;
  head: Entry | undefined;
  tail: Entry | undefined;
}

const source = "memory";

/**
 * Sessions in this process's memory: the default store, for one process and for tests.
 * Atomic (JavaScript runs one call at a time), resolve is O(1), and `cleanupExpired` costs
 * in proportion to what expired.
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
  const sweepInterval = options.sweepInterval;
  if (sweepInterval !== undefined && !(sweepInterval > 0 && Number.isFinite(sweepInterval))) {
    throw new SessionError({
      code: "INVALID_OPTION",
      source,
      message: `sweepInterval must be a positive number of seconds, got ${describeValue(sweepInterval)}.`,
    });
  }

  const byNamespace = new Map<string, Map<string, Entry>>();
  const queues = new Map<number, ExpiryQueue>();
  let size = 0;

  // Most apps use one or two namespaces; remembering the last one saves a lookup per call.
  let lastNamespace: string | undefined;
  let lastUsers: Map<string, Entry> | undefined;

  function usersOf(namespace: string): Map<string, Entry> | undefined {
    if (namespace === lastNamespace) return lastUsers;
    const users = byNamespace.get(namespace);
    if (users !== undefined) {
      lastNamespace = namespace;
      lastUsers = users;
    }
    return users;
  }

  function find(namespace: string, userId: string): Entry | undefined {
    return usersOf(namespace)?.get(userId);
  }

  function unlink(entry: Entry): void {
    const queue = entry.queue;
    if (queue === undefined) return;
    if (entry.previous) entry.previous.next = entry.next;
    else queue.head = entry.next;
    if (entry.next) entry.next.previous = entry.previous;
    else queue.tail = entry.previous;
    entry.previous = undefined;
    entry.next = undefined;
    entry.queue = undefined;
  }

  /** Records activity at `now` and moves the entry to the tail of its timeout's queue. */
  function renew(entry: Entry, now: number, timeoutMs: number): void {
    entry.lastActivityAt = now;
    entry.expiresAt = now + timeoutMs;
    // Most renewals keep the timeout, so the entry's own queue saves a lookup.
    let queue = entry.queue?.timeoutMs === timeoutMs ? entry.queue : queues.get(timeoutMs);
    if (queue === undefined) {
      queue = { timeoutMs, head: undefined, tail: undefined };
      queues.set(timeoutMs, queue);
    }
    if (queue.tail === entry) return;
    unlink(entry);
    entry.queue = queue;
    entry.previous = queue.tail;
    if (queue.tail) queue.tail.next = entry;
    else queue.head = entry;
    queue.tail = entry;
  }

  function remove(entry: Entry): void {
    unlink(entry);
    const users = usersOf(entry.namespace);
    if (users?.delete(entry.userId)) {
      size--;
      if (users.size === 0) {
        byNamespace.delete(entry.namespace);
        if (lastUsers === users) lastNamespace = lastUsers = undefined;
      }
    }
  }

  function evictLeastRecentlyActive(): void {
    let oldest: Entry | undefined;
    for (const queue of queues.values()) {
      if (queue.head && (oldest === undefined || queue.head.lastActivityAt < oldest.lastActivityAt)) {
        oldest = queue.head;
      }
    }
    if (oldest) remove(oldest);
  }

  function isLive(entry: Entry, now: number): boolean {
    return !entry.ended && now < entry.expiresAt;
  }

  function liveEntry(request: { namespace: string; userId: string; now: number }): Entry | undefined {
    const entry = find(request.namespace, request.userId);
    return entry && isLive(entry, request.now) ? entry : undefined;
  }

  function liveSession(request: ItemsRequest): Entry | undefined {
    const entry = liveEntry(request);
    return entry && entry.sessionId === request.sessionId ? entry : undefined;
  }

  const items: SessionItemStore = {
    async append(request, newItems) {
      const entry = liveSession(request);
      if (entry === undefined) {
        throw new SessionError({
          code: "SESSION_ENDED",
          source,
          message: `Session ${request.sessionId} is not the live session of this user any more; its items were not stored. Resolve the session again and write to the new one.`,
        });
      }
      const encoded = encodeItems(newItems, source);
      if (entry.items) entry.items.push(...encoded);
      else entry.items = encoded;
    },
    async list(request, limit) {
      const stored = liveSession(request)?.items;
      if (stored === undefined) return [];
      const selected = limit === undefined ? stored : stored.slice(Math.max(0, stored.length - limit));
      return selected.map((text) => JSON.parse(text) as unknown);
    },
    async pop(request) {
      const text = liveSession(request)?.items?.pop();
      return text === undefined ? undefined : (JSON.parse(text) as unknown);
    },
    async clear(request) {
      const entry = liveSession(request);
      if (entry) entry.items = undefined;
    },
  };

  let timer: ReturnType<typeof setInterval> | undefined;

  const store: MemoryStore = {
    specificationVersion: "v1",
    name: source,
    capabilities: { atomic: true, exactRenewal: true },
    items,

    get size() {
      return size;
    },

    // Plain values, not promises (the contract allows either): the hit path is the hottest
    // code in the library and this saves the manager a promise hop per call.
    resolve(request: ResolveRequest): ResolvedSession {
      const { namespace, userId, now, timeoutMs } = request;
      let entry = find(namespace, userId);
      if (entry !== undefined && !request.forceNew && isLive(entry, now)) {
        renew(entry, now, timeoutMs);
        return toSession(entry, false);
      }
      const candidate = request.proposeSessionId();
      if (entry === undefined) {
        if (size >= maxSessions) evictLeastRecentlyActive();
        entry = {
          namespace,
          userId,
          sessionId: candidate,
          baseId: candidate,
          sequence: 1,
          createdAtHighWater: now,
          createdAt: now,
          lastActivityAt: now,
          expiresAt: now,
          ended: false,
          items: undefined,
          queue: undefined,
          previous: undefined,
          next: undefined,
        };
        let users = byNamespace.get(namespace);
        if (users === undefined) {
          users = new Map();
          byNamespace.set(namespace, users);
        }
        users.set(userId, entry);
        size++;
      } else {
        entry.sequence++;
        entry.sessionId = distinctSessionId(candidate, entry, entry.sequence, now);
        entry.createdAtHighWater = Math.max(entry.createdAtHighWater, now);
        entry.baseId = candidate;
        entry.createdAt = now;
        entry.ended = false;
        entry.items = undefined;
      }
      renew(entry, now, timeoutMs);
      return toSession(entry, true);
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
      let removed = 0;
      for (const [timeoutMs, queue] of queues) {
        while (queue.head !== undefined && queue.head.expiresAt <= now) {
          if (!queue.head.ended) removed++;
          remove(queue.head);
        }
        if (queue.head === undefined) queues.delete(timeoutMs);
      }
      return removed;
    },

    async list(request: ListRequest): Promise<ListPage> {
      const offset = request.cursor === undefined ? 0 : Number(request.cursor);
      const limit = request.limit ?? 100;
      const sessions: SessionRecord[] = [];
      let index = 0;
      const namespaces =
        request.namespace === undefined ? byNamespace.values() : [byNamespace.get(request.namespace) ?? new Map()];
      for (const users of namespaces) {
        for (const entry of users.values()) {
          if (!isLive(entry, request.now)) continue;
          if (index++ < offset) continue;
          if (sessions.length === limit) return { sessions, cursor: String(offset + limit) };
          sessions.push(toRecord(entry));
        }
      }
      return { sessions };
    },

    async dispose(): Promise<void> {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
    },
  };

  if (sweepInterval !== undefined) {
    const clock = options.now ?? Date.now;
    timer = setInterval(() => void store.sweep(clock()), sweepInterval * 1000);
    // `unref` exists on Node, Bun and Deno timers; elsewhere timers never block exit anyway.
    (timer as { unref?: () => void }).unref?.();
  }
  return store;
}

function toRecord(entry: Entry): SessionRecord {
  return {
    sessionId: entry.sessionId,
    namespace: entry.namespace,
    userId: entry.userId,
    createdAt: entry.createdAt,
    lastActivityAt: entry.lastActivityAt,
    expiresAt: entry.expiresAt,
  };
}

function toSession(entry: Entry, isNew: boolean): ResolvedSession {
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
