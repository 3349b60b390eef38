import type { RunRecord } from "./run-record.js";

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
  /**
   * When the session stops being live unless renewed (ms since epoch): the earlier of
   * `lastActivityAt + timeout` and, with a maximum duration, `createdAt + maxDuration`.
   */
  expiresAt: number;
  /** Resolves that returned this session, its creation included (so at least 1). `touch` does not count. */
  turns: number;
  /**
   * The pair's session this one replaced: set when the replacement happened at the resolve that
   * created this one, or when the previous session ended within the retention before it.
   */
  previousSessionId?: string;
  /** What the session's runs add up to, on stores that keep run records (`runs`); absent before the first. */
  totals?: SessionTotals;
}

/** Running totals of a session's run records, updated atomically with each record kept. */
export interface SessionTotals {
  /** Run records kept for the session (also those later dropped by the per-session bound). */
  runs: number;
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  toolCalls: number;
  handoffs: number;
  /** Runs that failed (`error` set). */
  errors: number;
  /** The agent that answered last (`finalAgent`, else the last agent of the run), when known. */
  lastAgent?: string;
}

/**
 * Why a session ended:
 * - `"expired"`: quiet for the inactivity timeout;
 * - `"max-duration"`: reached `createdAt + maxDuration`;
 * - `"max-turns"`: a resolve would have made turn `maxTurns + 1`;
 * - `"replaced"`: `forceNew`;
 * - `"closed"`: `closeSession`;
 * - `"evicted"`: a store bound (the memory store's `maxSessions`);
 * - `"forgotten"`: `forgetUser`.
 */
export type SessionEndReason =
  | "expired"
  | "closed"
  | "replaced"
  | "max-duration"
  | "max-turns"
  | "evicted"
  | "forgotten";

/**
 * One session's end. A store hands out each end once (on an atomic store, once across every
 * process): the call that claims it returns it, in the same atomic step that ends the session.
 */
export interface SessionEndEvent {
  /** The session as it was when it ended. */
  session: SessionRecord;
  reason: SessionEndReason;
  /** When it ended (ms since epoch): the time bound that passed first, or the ending call's `now`. */
  endedAt: number;
}

/** A session returned by `resolve`, with whether this call created it. */
export interface ResolvedSession extends SessionRecord {
  /** True when this call created the session (first call, after expiry, after close, or forced). */
  isNew: boolean;
  /**
   * From the store to the manager (the manager's `resolve` does not return it): the end of the
   * pair's previous session, when this call claimed it (it replaced a live session, or an expired
   * one no call had claimed). Absent on most calls.
   */
  ended?: SessionEndEvent;
  /**
   * From the store to the manager: ends of other pairs' sessions the store evicted to make room
   * for this one (a store bound such as `maxSessions`), reason `"evicted"` (or the time bound they
   * had already passed).
   */
  evicted?: SessionEndEvent[];
  /**
   * From the store to the manager: the items of the session this one replaced, kept for
   * carry-over (`carryOverMs`) and now deleted from the store: handed out once.
   */
  carried?: CarriedItems;
}

/** An ended session's items, handed to the session that replaced it (carry-over). */
export interface CarriedItems {
  /** The ended session they belonged to. */
  sessionId: string;
  items: unknown[];
}

/** A session as {@link SessionStore.list} returns it: live, or ended and kept for history. */
export interface SessionSummary extends SessionRecord {
  status: "active" | "ended";
  /** When it ended (ms since epoch); only when ended. */
  endedAt?: number;
  /** Why it ended; only when ended. */
  endReason?: SessionEndReason;
}

/** What a store keeps of a session it ends, sent with every call that may end one. */
export interface EndKeeping {
  /** Retention (ms): an ended session stays in history until `endedAt + retentionMs`. 0 keeps none. */
  retentionMs: number;
  /**
   * Carry-over (ms): an ended session's items stay until `endedAt + carryOverMs` for the pair's
   * next session to take once (the resolve that creates it returns them as `carried` and deletes
   * them). Omitted or 0: items go when the session ends.
   */
  carryOverMs?: number;
}

/**
 * The lifecycle limits a manager applies, sent with every call that may create, renew or end
 * a session. Stores apply the request's limits; managers sharing a store should agree on them.
 */
export interface LifecycleLimits extends EndKeeping {
  /** Absolute lifetime (ms) of a session created by this call; omitted for none. Fixed at creation. */
  maxDurationMs?: number;
}

/** Input of {@link SessionStore.resolve}. */
export interface ResolveRequest extends SessionKey, LifecycleLimits {
  /** The current time (ms since epoch). */
  now: number;
  /** The inactivity timeout (ms): a session is live while `now < lastActivityAt + timeoutMs`. */
  timeoutMs: number;
  /** End the live session, if any, and create a new one (end reason `"replaced"`). */
  forceNew: boolean;
  /** Turns a session may serve; the resolve that would make turn `maxTurns + 1` creates a new session. Omitted for none. */
  maxTurns?: number;
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

/** Input of operations that only read a session at a point in time. */
export interface KeyAtTimeRequest extends SessionKey {
  now: number;
}

/** Input of {@link SessionStore.forget}. */
export interface ForgetRequest extends KeyAtTimeRequest {}

/** What {@link SessionStore.forget} did. */
export interface ForgetResult {
  /** Sessions removed: the live (or expired, unclaimed) one and every ended one kept for history. */
  removed: number;
  /** The end of the session that was live (`"forgotten"`) or expired and unclaimed, if any. */
  ended?: SessionEndEvent;
}

/** Input of {@link SessionStore.sweep}. */
export interface SweepRequest extends EndKeeping {
  now: number;
}

/** Input of {@link SessionStore.close}. */
export interface CloseRequest extends KeyAtTimeRequest, EndKeeping {
  /**
   * End the live session only if it is this one. A request that holds an old session must not
   * end the newer one a concurrent request created; without it, whatever session is live ends.
   */
  sessionId?: string;
}

/** Input of {@link SessionStore.list}. */
export interface ListRequest {
  now: number;
  /** Only sessions of this namespace. Required with `userId`. */
  namespace?: string;
  /** Only this user's sessions (with `namespace`): costs in proportion to that user's sessions. */
  userId?: string;
  /** Live sessions (`"active"`, the default), ended ones kept for history, or both. */
  status?: "active" | "ended" | "all";
  /** The retention (ms) to judge sessions that expired and were not claimed yet. Default 0. */
  retentionMs?: number;
  /** Resume after a previous page. */
  cursor?: string;
  /** Upper bound on the page size; stores may return fewer. */
  limit?: number;
}

/** One page of {@link SessionStore.list}. */
export interface ListPage {
  sessions: SessionSummary[];
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
 * Bounds on what one session keeps, applied atomically with every change: beyond them the
 * oldest groups of items go first. A group is the items of one append (or of several, with
 * `continuesGroup`), e.g. one conversation turn, so trimming never splits a turn.
 */
export interface ItemBounds {
  /** Most items a session keeps; `Infinity` for none. */
  maxItems: number;
  /** Most bytes (UTF-8 of the items' JSON text) a session keeps; `Infinity` for none. */
  maxItemBytes: number;
}

/** One atomic change to a session's items, for {@link SessionItemStore.apply}. */
export type ItemsChange =
  | {
      type: "append";
      items: readonly unknown[];
      /** Join the newest group instead of starting one (a turn written in several appends). */
      continuesGroup?: boolean;
    }
  | {
      /**
       * Compare-and-swap on the end of the history: if the items end with `expectedSuffix` (equal
       * as JSON text, so key order matters), replace those with `replacement`; otherwise fail with `HISTORY_MISMATCH`
       * and change nothing. The replacement joins the group the suffix started in.
       */
      type: "replace-suffix";
      expectedSuffix: readonly unknown[];
      replacement: readonly unknown[];
    }
  | {
      /** Replace every item (a compaction: a summary marker and the suffix it keeps); one group. */
      type: "replace-all";
      items: readonly unknown[];
    };

/** Input of {@link SessionItemStore.apply}. */
export interface ItemsChangeRequest extends ItemsRequest {
  /**
   * Makes the change idempotent: a store remembers the operation ids it applied to the session
   * (the latest 1,000 at least) with a fingerprint of their change. Repeating an id with the same
   * change does nothing (`applied: false`); with a different change it fails with
   * `OPERATION_CONFLICT`. Both change nothing.
   */
  operationId?: string;
  bounds: ItemBounds;
}

/** What {@link SessionItemStore.apply} did. */
export interface ItemsChangeResult {
  /** False when `operationId` had been applied before: the change was not repeated. */
  applied: boolean;
  /** Items dropped from the front (whole groups) to stay within the bounds. */
  trimmed: number;
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
  /** Removes every item of the session, and the operation ids applied to them (a fresh start). */
  clear(request: ItemsRequest): Promise<void>;
  /**
   * Applies one change atomically: the liveness check, the operation id (idempotency), the change
   * and the trimming to `bounds` are one step, so a retried or concurrent writer never duplicates
   * or corrupts history. Refuses a group larger than the bounds by itself (`ITEMS_TOO_LARGE`).
   * Rejects with `SESSION_ENDED` when the session is not live. Optional while stores adopt it;
   * the manager falls back to `append` (unbounded) without it.
   */
  apply?(request: ItemsChangeRequest, change: ItemsChange): Promise<ItemsChangeResult>;
}

/** Input of {@link SessionRunStore.add}. */
export interface AddRunRequest extends ItemsRequest {
  /** Most run records a session keeps; beyond it the oldest go (the totals keep counting them). */
  maxRuns: number;
}

/** One page of {@link SessionRunStore.list}. */
export interface RunsPage {
  /** Oldest first. */
  records: RunRecord[];
  /** Pass back for the next page; absent on the last page. */
  cursor?: string;
}

/**
 * Run records kept with their session (`RunRecord`, one per Agents run or LangChain root run), for
 * reading a past conversation by session id, with the session's totals. Kept while the session is
 * live and, once it ended, for as long as it stays in history (`retention`); erased by `forget`.
 */
export interface SessionRunStore {
  /**
   * Keeps `record` with its session and adds it to the session's totals, in one atomic step.
   * The session must be the pair's live session or an ended one still in history (a run that
   * finished just after its session ended); otherwise rejects with `SESSION_ENDED`. Idempotent
   * by `record.runId`: a run already kept changes nothing. Returns the totals after it.
   */
  add(request: AddRunRequest, record: RunRecord): Promise<SessionTotals>;
  /** The session's run records, oldest first, paged (`limit` default 100); `[]` once they are gone. */
  list(request: ItemsRequest, page?: { cursor?: string; limit?: number }): Promise<RunsPage>;
}

/** What a store promises beyond the required surface. The conformance suite skips by these flags. */
export interface StoreCapabilities {
  /**
   * `resolve`, `touch` and `close` are atomic per key across every process sharing the
   * store: N concurrent first resolves for one key yield one session.
   */
  atomic: boolean;
  /**
   * Every renewal is stored exactly, and so every turn. False when the store throttles renewal
   * writes (Workers KV), in which case `lastActivityAt` and `expiresAt` may lag by up to the
   * throttle period and `turns` may count fewer.
   */
  exactRenewal: boolean;
  /**
   * Each session's end is claimed once across every process (the claim is part of the atomic
   * step that ends it), so `onSessionEnd` runs once per ended session. False when ends may be
   * reported twice or missed (Workers KV).
   */
  exactlyOnceEnds: boolean;
  /**
   * Ended sessions are kept for the request's retention and `list` returns them (`status`
   * `"ended"` / `"all"`, by user). False when the store keeps no history.
   */
  history: boolean;
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
   * Get-or-create-and-renew. If the key has a live session, `forceNew` is false and the
   * session has served fewer than `maxTurns` turns, renews it (`lastActivityAt = now`,
   * `expiresAt = min(now + timeoutMs, createdAt + maxDurationMs)`, `turns + 1`) and returns it
   * with `isNew: false`. Otherwise ends the previous session and creates a new one (turn 1)
   * whose id differs from the previous session's (see `distinctSessionId`), with `isNew: true`,
   * `previousSessionId`, and `ended` when this call claimed the previous session's end.
   * Atomic when `capabilities.atomic`: the renewal or the end, its claim, its history entry and
   * the creation are one step.
   */
  resolve(request: ResolveRequest): MaybePromise<ResolvedSession>;

  /**
   * Renews the key's session only if it is live (`expiresAt` as in `resolve`); never creates
   * one and does not count a turn. Returns the renewed session, or `null` when there is none.
   * Atomic when `capabilities.atomic`.
   */
  touch(request: TouchRequest): MaybePromise<SessionRecord | null>;

  /** The key's live session without renewing it, or `null` (expired counts as none). */
  get(request: KeyAtTimeRequest): MaybePromise<SessionRecord | null>;

  /**
   * Ends the key's live session (only if its id is `request.sessionId`, when given) with reason
   * `"closed"`, and returns its end, or `null` when it ended none. The store keeps a tombstone
   * (the id history, never the data) so the next session's id differs, and the session in
   * history for `retentionMs`. Atomic when `capabilities.atomic`: the id check, the end and its
   * claim are one step.
   */
  close(request: CloseRequest): MaybePromise<SessionEndEvent | null>;

  /**
   * Claims the ends of sessions that ended by time (`"expired"`, `"max-duration"`) and that no
   * call has claimed yet, keeps them in history for `retentionMs`, and removes what the store
   * must remove itself (expired sessions, history past its retention). Returns the ends it
   * claimed. Costs in proportion to what expired. Optional: a store without it claims an expired
   * session's end only at the pair's next `resolve`; the manager runs it in the background.
   */
  sweep?(request: SweepRequest): MaybePromise<SessionEndEvent[]>;

  /**
   * Removes everything of the pair: its live session with its items, its tombstone, and every
   * ended session kept for history. Atomic when `capabilities.atomic`. Optional.
   */
  forget?(request: ForgetRequest): MaybePromise<ForgetResult>;

  /**
   * Lists sessions, for dashboards: live ones by default; with `capabilities.history`, ended ones
   * too. With `userId` (and `namespace`), that user's sessions, newest first, at a cost in
   * proportion to them. Optional; the order across users is store-defined.
   */
  list?(request: ListRequest): MaybePromise<ListPage>;

  /** Conversation items kept with sessions. Optional. */
  readonly items?: SessionItemStore;

  /** Run records and totals kept with sessions and their history. Optional. */
  readonly runs?: SessionRunStore;

  /** Stops the store's own timers. Does not close clients you passed in. Optional. */
  dispose?(): Promise<void>;
}
