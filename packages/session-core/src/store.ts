/**
 * The SessionStore contract, v1. Everything a store must do is here, as types; the memory
 * store and the conformance suite (`@threadline/session-core/testing`) show it in practice.
 *
 * Units: every time is milliseconds since the Unix epoch, every duration is milliseconds.
 * The manager passes `now` in each request; stores never read a clock of their own unless
 * they say so (e.g. a Redis store that uses the server's clock).
 */

/**
 * A value or a promise of it. Stores that answer from memory return plain values, which
 * saves the manager a promise hop per call; stores that do I/O return promises.
 */
export type MaybePromise<T> = T | Promise<T>;

/** Who a session belongs to. No two distinct pairs may share storage in any store. */
export interface SessionKey {
  namespace: string;
  userId: string;
}

/** A stored session as every store returns it. */
export interface SessionRecord extends SessionKey {
  sessionId: string;
  /** When the session was created (ms since epoch). */
  createdAt: number;
  /** The last activity the store has recorded (ms since epoch). */
  lastActivityAt: number;
  /** When the session stops being live unless renewed: `lastActivityAt + timeout` (ms since epoch). */
  expiresAt: number;
}

/** A session returned by `resolve`, with whether this call created it. */
export interface ResolvedSession extends SessionRecord {
  /** True when this call created the session (first call, after expiry, after close, or forced). */
  isNew: boolean;
}

/** Input of {@link SessionStore.resolve}. */
export interface ResolveRequest extends SessionKey {
  /** The current time (ms since epoch). */
  now: number;
  /** The inactivity timeout (ms): a session is live while `now < lastActivityAt + timeoutMs`. */
  timeoutMs: number;
  /** End the live session, if any, and create a new one. */
  forceNew: boolean;
  /**
   * Proposes an id for a new session. Call it at most once per resolve, and only when a
   * session may be created; a store that cannot call back in the middle of an atomic
   * operation (a server-side script) may call it beforehand and discard the result.
   * The store applies `distinctSessionId` to the proposal. Call it as a method of the
   * request (`request.proposeSessionId()`); it is not a detachable function.
   */
  proposeSessionId(): string;
}

/** Input of {@link SessionStore.touch}. */
export interface TouchRequest extends SessionKey {
  now: number;
  timeoutMs: number;
}

/** Input of operations that only read or end a session at a point in time. */
export interface KeyAtTimeRequest extends SessionKey {
  now: number;
}

/** Input of {@link SessionStore.close}. */
export interface CloseRequest extends KeyAtTimeRequest {
  /**
   * End the live session only if it is this one. A request that holds an old session must not
   * end the newer one a concurrent request created; without it, whatever session is live ends.
   */
  sessionId?: string;
}

/** Input of {@link SessionStore.list}. */
export interface ListRequest {
  now: number;
  /** Only sessions of this namespace. */
  namespace?: string;
  /** Resume after a previous page. */
  cursor?: string;
  /** Upper bound on the page size; stores may return fewer. */
  limit?: number;
}

/** One page of {@link SessionStore.list}. */
export interface ListPage {
  sessions: SessionRecord[];
  /** Pass back to get the next page; absent on the last page. */
  cursor?: string;
}

/** Names one session of one user, for conversation items. */
export interface SessionRef extends SessionKey {
  sessionId: string;
}

/** Input of the conversation item operations. */
export interface ItemsRequest extends SessionRef {
  now: number;
}

/**
 * Conversation items (chat messages, agent input items) kept with a session in the same
 * store and gone with it: they are readable only while that session is the user's live
 * session, and a store frees them when the session ends or expires. Items are JSON values;
 * stores keep them as JSON, so what comes back is what `JSON.parse(JSON.stringify(item))` gives.
 */
export interface SessionItemStore {
  /**
   * Appends items in order. Rejects with `SESSION_ENDED` when `sessionId` is not the user's
   * live session, so a late write never lands in a newer conversation. Atomic per session
   * when the store is `atomic`. Does not renew the session.
   */
  append(request: ItemsRequest, items: readonly unknown[]): Promise<void>;
  /** The last `limit` items (all when omitted), oldest first; `[]` when the session is not live. */
  list(request: ItemsRequest, limit?: number): Promise<unknown[]>;
  /** Removes and returns the newest item; `undefined` when there is none or the session is not live. */
  pop(request: ItemsRequest): Promise<unknown>;
  /** Removes every item of the session. */
  clear(request: ItemsRequest): Promise<void>;
}

/** What a store promises beyond the required surface. The conformance suite skips by these flags. */
export interface StoreCapabilities {
  /**
   * `resolve`, `touch` and `close` are atomic per key across every process sharing the
   * store: N concurrent first resolves for one key yield one session.
   */
  atomic: boolean;
  /**
   * Every renewal is stored exactly. False when the store throttles renewal writes (Workers
   * KV), in which case `lastActivityAt` and `expiresAt` may lag by up to the throttle period.
   */
  exactRenewal: boolean;
}

/**
 * A place to keep sessions. Implement the required methods, declare `capabilities`, and run
 * the conformance suite from `@threadline/session-core/testing` against it.
 *
 * Methods may return plain values or promises (`MaybePromise`).
 *
 * Failures: reject (or throw) with a `SessionError` (`STORE_UNAVAILABLE` when the backend cannot be
 * reached, `STORE_ERROR` otherwise) rather than hang; never resolve with partial data.
 */
export interface SessionStore {
  /** The contract version this store implements. */
  readonly specificationVersion: "v1";
  /** A short name for messages and benchmarks, e.g. `"memory"`, `"redis"`. */
  readonly name: string;
  readonly capabilities: StoreCapabilities;

  /**
   * Get-or-create-and-renew. If the key has a live session and `forceNew` is false, renews
   * it (`lastActivityAt = now`, `expiresAt = now + timeoutMs`) and returns it with
   * `isNew: false`. Otherwise ends any live session and creates a new one whose id differs
   * from the previous session's (see `distinctSessionId`), with `isNew: true`.
   * Atomic when `capabilities.atomic`.
   */
  resolve(request: ResolveRequest): MaybePromise<ResolvedSession>;

  /**
   * Renews the key's session only if it is live; never creates one. Returns the renewed
   * session, or `null` when there is none. Atomic when `capabilities.atomic`.
   */
  touch(request: TouchRequest): MaybePromise<SessionRecord | null>;

  /** The key's live session without renewing it, or `null` (expired counts as none). */
  get(request: KeyAtTimeRequest): MaybePromise<SessionRecord | null>;

  /**
   * Ends the key's live session (only if its id is `request.sessionId`, when given). Returns
   * whether it ended one. The store may keep a tombstone (the id, never the data) until the
   * session would have expired, so the next session's id differs. Atomic when
   * `capabilities.atomic`: the id check and the end are one step.
   */
  close(request: CloseRequest): MaybePromise<boolean>;

  /**
   * Removes expired sessions and returns how many it removed. Costs in proportion to what
   * expired. Present exactly when the store has no native expiry: a store without `sweep`
   * expires sessions by itself (Redis, KV, Durable Object alarms).
   */
  sweep?(now: number): MaybePromise<number>;

  /** Lists live sessions, for dashboards. Optional; order is store-defined. */
  list?(request: ListRequest): MaybePromise<ListPage>;

  /** Conversation items kept with sessions. Optional. */
  readonly items?: SessionItemStore;

  /** Stops the store's own timers. Does not close clients you passed in. Optional. */
  dispose?(): Promise<void>;
}
