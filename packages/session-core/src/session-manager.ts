import { createErrorSink, type ErrorHandler, type ErrorSink } from "./adapter-kit/error-sink.js";
import { PendingWork } from "./adapter-kit/pending-work.js";
import { SessionError } from "./errors.js";
import {
  type CarryOver,
  type LifecycleSettings,
  type ListSessionsOptions,
  lifecycleSettings,
  listStatus,
  optionalHandler,
  type SessionEndHandler,
  type SessionList,
  type SessionStartHandler,
} from "./lifecycle.js";
import { memoryStore } from "./memory-store/index.js";
import type { RunRecord } from "./run-record.js";
import { type SessionIdContext, type SessionIdFormat, sessionIdGenerator } from "./session-id.js";
import type {
  CarriedItems,
  ItemBounds,
  ItemsChange,
  ItemsChangeRequest,
  ItemsChangeResult,
  MaybePromise,
  ResolvedSession,
  ResolveRequest,
  RunsPage,
  SessionEndEvent,
  SessionRecord,
  SessionRef,
  SessionRunStore,
  SessionStore,
  SessionTotals,
} from "./store.js";
import { assertValidId, describeValue, timeoutToMs } from "./validation.js";

/** Options of {@link SessionManager.addItems}. */
export interface AddItemsOptions {
  /** Appends once however often the call is repeated with this id (e.g. a webhook's message id). */
  operationId?: string;
  /** Join the newest group instead of starting one: a turn written in several appends stays whole when trimmed. */
  continuesGroup?: boolean;
}

const DEFAULT_MAX_ITEMS = 2_000;
const DEFAULT_MAX_ITEM_BYTES = 2 * 1024 * 1024;

function itemBounds(options: { maxItems?: number; maxItemBytes?: number }): ItemBounds {
  const maxItems = options.maxItems ?? DEFAULT_MAX_ITEMS;
  const maxItemBytes = options.maxItemBytes ?? DEFAULT_MAX_ITEM_BYTES;
  for (const [name, value] of [
    ["maxItems", maxItems],
    ["maxItemBytes", maxItemBytes],
  ] as const) {
    if (!((Number.isSafeInteger(value) && value >= 1) || value === Number.POSITIVE_INFINITY)) {
      throw new SessionError({
        code: "INVALID_OPTION",
        message: `${name} must be a whole number ≥ 1 (or Infinity for no limit), got ${describeValue(value)}.`,
      });
    }
  }
  return { maxItems, maxItemBytes };
}

/** Options for {@link SessionManager}. */
export interface SessionManagerOptions {
  /** Seconds without activity after which the next call starts a new session. Default 120. */
  inactivityTimeout?: number;
  /** Namespace for calls that omit one. Default `"default"`. */
  namespace?: string;
  /** Where sessions live. Default: a new {@link memoryStore} (this process only). */
  store?: SessionStore;
  /** The clock, in ms since epoch. Default `Date.now`. Inject a fake one in tests. */
  now?: () => number;
  /** How new session ids look. Default `"timestamp"`: `support-user-123-20250107-120000`. */
  idFormat?: SessionIdFormat;
  /**
   * Seconds between background cleanups, on stores with `sweep` (memory, Redis): each finds the
   * sessions that ran out of time, delivers their `onSessionEnd` and removes what the store keeps
   * no longer. The manager starts one during a `resolve` once this much time has passed on its
   * clock: no timer, and a long-running process stays bounded by its live sessions. `0` turns it
   * off (call `cleanupExpired()` yourself). Default 60.
   */
  cleanupInterval?: number;
  /**
   * Most conversation items a session keeps; beyond it the oldest groups (turns) go first,
   * atomically with the append. `Infinity` for no limit. Default 2,000. Applies on stores whose
   * items support `apply` (memory, Redis, Durable Object); others (KV) keep appending without a bound.
   */
  maxItems?: number;
  /**
   * Most bytes (UTF-8 of the items' JSON text) a session keeps; beyond it the oldest groups go
   * first. A single group larger than this is refused (`ITEMS_TOO_LARGE`). `Infinity` for no
   * limit. Default 2 MiB (2,097,152).
   */
  maxItemBytes?: number;
  /**
   * Most run records a session keeps (`addRunRecord`); beyond it the oldest go, while the
   * session's totals keep counting them. Default 100.
   */
  maxRuns?: number;
  /**
   * Seconds a session may last at most, however active: the first activity at or after
   * `createdAt + maxDuration` starts a new session (end reason `"max-duration"`). Default: no limit.
   */
  maxDuration?: number;
  /**
   * Turns a session may serve: a turn is one `resolve`/`getOrCreateSession` that returns it
   * (creation is turn 1), and the one that would make turn `maxTurns + 1` starts a new session
   * (end reason `"max-turns"`). Default: no limit.
   */
  maxTurns?: number;
  /**
   * Seconds an ended session stays visible in history (`listSessions` with `status: "ended"`)
   * after it ended. It never makes an ended session live again. Default 0: no history.
   */
  retention?: number;
  /**
   * Called with each new session (`{ session, previousSessionId }`). Not awaited by the call that
   * created it: failures go to `onError` and never fail a resolve.
   */
  onSessionStart?: SessionStartHandler;
  /**
   * Called once with each ended session (`{ session, reason, endedAt }`), whichever call or
   * process observed the end first (on stores with `capabilities.exactlyOnceEnds`); before the
   * `onSessionStart` of the session that replaced it. Sessions that end by time are observed at
   * the pair's next resolve or by a cleanup (`cleanupInterval`). Not awaited; failures go to
   * `onError`. A process that dies between the store's claim and this call loses that one event.
   */
  onSessionEnd?: SessionEndHandler;
  /**
   * Seed a user's new session from the one it replaced (opt-in): the store keeps an ended
   * session's items for `within` seconds, and the resolve that creates the pair's next session
   * hands them once to `seed` and appends what it returns before resolving. Needs a store whose
   * items support `apply` (memory, Redis, Durable Object). A failing `seed` goes to `onError`; the new session then
   * starts empty.
   */
  carryOver?: CarryOver;
  /**
   * Receives failures the manager keeps away from your calls: a background cleanup, a throwing
   * or rejecting `onSessionStart`/`onSessionEnd`, a failing `carryOver.seed`. Default: log the first failure of each kind
   * with `console.error`.
   */
  onError?: ErrorHandler;
}

/** Options for {@link SessionManager.resolve} and {@link SessionManager.getOrCreateSession}. */
export interface ResolveOptions {
  /** End the live session, if any, and start a new one. */
  forceNew?: boolean;
}

/** Options for {@link SessionManager.closeSession}. */
export interface CloseOptions {
  /** End the live session only if it is this one. */
  sessionId?: string;
}

/** What {@link SessionManager.getSessionInfo} returns, as the origin SDK's `get_session_info`. */
export interface SessionInfo extends SessionRecord {
  /** Seconds since the session was created. */
  duration: number;
  /** Seconds since the last activity. */
  inactiveFor: number;
}

/**
 * Decides which conversation session each user is in. A user keeps the same session id while
 * they stay active and gets a new one after `inactivityTimeout` seconds of silence, after
 * `closeSession`, with `forceNew`, or past `maxDuration`/`maxTurns`. Sessions are keyed by
 * (namespace, userId). `onSessionStart`/`onSessionEnd` say when and why sessions start and end;
 * `listSessions` and `forgetUser` read and erase a user's history.
 *
 * @example
 * const sessions = new SessionManager({ namespace: "support" });
 * const id = await sessions.getOrCreateSession("user-123"); // "support-user-123-20250107-120000"
 */
export class SessionManager {
  /** The store sessions live in. */
  readonly store: SessionStore;
  /** The namespace used when a call omits one. */
  readonly namespace: string;
  /** The inactivity timeout in seconds. */
  readonly inactivityTimeout: number;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  readonly #createId: (context: SessionIdContext) => string;
  readonly #cleanupIntervalMs: number;
  /** When the next background cleanup is due (ms, manager clock); `Infinity` when off, NaN before the first resolve. */
  #nextCleanupAt: number;
  readonly #errors: ErrorSink;
  readonly #background = new PendingWork();
  readonly #lifecycle: LifecycleSettings;
  readonly #itemBounds: ItemBounds;
  readonly #maxRuns: number;
  readonly #onSessionStart: SessionStartHandler | undefined;
  readonly #onSessionEnd: SessionEndHandler | undefined;
  readonly #carryOver: CarryOver | undefined;

  constructor(options: SessionManagerOptions = {}) {
    // Only an omitted timeout means the default; null or 0 are mistakes worth an error.
    this.inactivityTimeout = options.inactivityTimeout === undefined ? 120 : options.inactivityTimeout;
    this.#timeoutMs = timeoutToMs(this.inactivityTimeout);
    this.namespace = options.namespace ?? "default";
    assertValidId(this.namespace, "namespace");
    if (options.now !== undefined && typeof options.now !== "function") {
      throw new SessionError({
        code: "INVALID_OPTION",
        message: `now must be a function returning ms since epoch, got ${describeValue(options.now)}.`,
      });
    }
    this.#now = options.now ?? Date.now;
    this.#createId = sessionIdGenerator(options.idFormat ?? "timestamp");
    this.store = checkedStore(options.store ?? memoryStore());
    const cleanupInterval = options.cleanupInterval ?? 60;
    if (
      typeof cleanupInterval !== "number" ||
      !(cleanupInterval >= 0) ||
      cleanupInterval === Number.POSITIVE_INFINITY
    ) {
      throw new SessionError({
        code: "INVALID_OPTION",
        message: `cleanupInterval must be a number of seconds ≥ 0 (0 turns background cleanup off), got ${describeValue(cleanupInterval)}.`,
      });
    }
    this.#cleanupIntervalMs = cleanupInterval * 1000;
    // NaN: not scheduled yet. The first resolve schedules the first cleanup one interval later,
    // so short-lived managers never pay for one (and the constructor reads no clock).
    this.#nextCleanupAt =
      this.#cleanupIntervalMs > 0 && typeof this.store.sweep === "function" ? Number.NaN : Number.POSITIVE_INFINITY;
    this.#errors = createErrorSink("session-manager", options.onError);
    this.#lifecycle = lifecycleSettings(options);
    this.#itemBounds = itemBounds(options);
    this.#maxRuns = options.maxRuns ?? 100;
    if (!(Number.isSafeInteger(this.#maxRuns) && this.#maxRuns >= 1)) {
      throw new SessionError({
        code: "INVALID_OPTION",
        message: `maxRuns must be a whole number ≥ 1, got ${describeValue(options.maxRuns)}.`,
      });
    }
    this.#onSessionStart = optionalHandler(options.onSessionStart, "onSessionStart");
    this.#onSessionEnd = optionalHandler(options.onSessionEnd, "onSessionEnd");
    this.#carryOver = options.carryOver;
    if (this.#carryOver !== undefined && this.store.items?.apply === undefined) {
      throw new SessionError({
        code: "INVALID_OPTION",
        source: this.store.name,
        message: `carryOver needs a store that keeps an ended session's items and applies item changes atomically (memory, Redis, Durable Object); the ${this.store.name} store does not.`,
      });
    }
  }

  /**
   * The user's session: the live one, renewed, or a new one. The session object says whether
   * it is new and when it expires; this is the call adapters build on.
   */
  async resolve(userId: string, namespace?: string, options?: ResolveOptions): Promise<ResolvedSession> {
    return this.#resolveInStore(userId, namespace, options);
  }

  /**
   * The manager's clock, in ms since epoch: `Date.now` or the `now` you injected. Adapters read
   * it so the times they record agree with the sessions' times.
   */
  now(): number {
    return this.#clock();
  }

  /** The user's session id, creating or renewing the session as {@link resolve} does. */
  async getOrCreateSession(userId: string, namespace?: string, options?: ResolveOptions): Promise<string> {
    const session = this.#resolveInStore(userId, namespace, options);
    return isPromise(session) ? session.then(sessionIdOf) : session.sessionId;
  }

  /** Renews the user's live session. Returns false (and creates nothing) when there is none. */
  async updateActivity(userId: string, namespace?: string): Promise<boolean> {
    const ns = this.#key(userId, namespace);
    const renewed = await this.#guard(() =>
      this.store.touch({ namespace: ns, userId, now: this.#clock(), timeoutMs: this.#timeoutMs }),
    );
    return renewed !== null;
  }

  /**
   * Ends the user's live session; the next call starts a new one with a different id. Returns
   * whether it ended one. With `{ sessionId }`, ends it only if it is that session: code that
   * holds a session (a request, a run) then never ends a newer one a concurrent call created.
   */
  async closeSession(userId: string, namespace?: string, options?: CloseOptions): Promise<boolean> {
    const ns = this.#key(userId, namespace);
    const sessionId = options?.sessionId;
    if (sessionId !== undefined && (typeof sessionId !== "string" || sessionId.length === 0)) {
      throw new SessionError({
        code: "INVALID_SESSION_ID",
        message: "closeSession's sessionId must be a non-empty string.",
      });
    }
    const end = await this.#guard(() =>
      this.store.close({
        namespace: ns,
        userId,
        now: this.#clock(),
        retentionMs: this.#lifecycle.retentionMs,
        carryOverMs: this.#lifecycle.carryOverMs,
        ...(sessionId === undefined ? {} : { sessionId }),
      }),
    );
    if (end === null) return false;
    this.#deliverEnd(end);
    return true;
  }

  /**
   * Removes everything the store keeps of the user in the namespace: the live session and its
   * items (it ends with reason `"forgotten"`), and every ended session kept for history. Returns
   * how many sessions it removed. For erasure requests; the pair's next session starts afresh.
   */
  async forgetUser(userId: string, namespace?: string): Promise<number> {
    const ns = this.#key(userId, namespace);
    const store = this.store;
    if (store.forget === undefined) {
      throw new SessionError({
        code: "UNSUPPORTED",
        source: store.name,
        message: `The ${store.name} store cannot forget a user. Use a store that implements forget (memory, Redis, Durable Object).`,
      });
    }
    const result = await this.#guard(() => store.forget?.({ namespace: ns, userId, now: this.#clock() }));
    if (result === undefined) return 0;
    if (result.ended !== undefined) this.#deliverEnd(result.ended);
    return result.removed;
  }

  /**
   * Sessions, for dashboards: live ones (default), ended ones kept for `retention`, or both.
   * With `userId`, that user's sessions newest first (namespace: the manager's unless given),
   * at a cost in proportion to them; without, every user's in the namespace, or in every
   * namespace when it is omitted. Pages with `cursor`.
   */
  async listSessions(options: ListSessionsOptions = {}): Promise<SessionList> {
    const store = this.store;
    const status = listStatus(options.status);
    const userId = options.userId;
    let namespace = options.namespace;
    if (userId !== undefined) namespace = this.#key(userId, namespace);
    else if (namespace !== undefined) assertValidId(namespace, "namespace");
    if (store.list === undefined || (status !== "active" && !store.capabilities.history)) {
      throw new SessionError({
        code: "UNSUPPORTED",
        source: store.name,
        message: `The ${store.name} store cannot list ${status === "active" ? "sessions" : "ended sessions"}. Use a store that keeps history (memory, Redis, Durable Object).`,
      });
    }
    const list = store.list.bind(store);
    const { cursor, limit } = options;
    return this.#guard(() =>
      list({
        now: this.#clock(),
        status,
        retentionMs: this.#lifecycle.retentionMs,
        ...(namespace === undefined ? {} : { namespace }),
        ...(userId === undefined ? {} : { userId }),
        ...(cursor === undefined ? {} : { cursor }),
        ...(limit === undefined ? {} : { limit }),
      }),
    );
  }

  /**
   * Resolves when the manager's background work has finished: a cleanup in progress and the
   * `onSessionStart`/`onSessionEnd` calls in flight. Never rejects.
   */
  flush(): Promise<void> {
    return this.#background.flush();
  }

  /**
   * How many background tasks (cleanups, lifecycle callbacks) have not finished yet. Lets an
   * adapter hand work to a runtime's `waitUntil` only when there is some, without creating a
   * promise per request.
   */
  get pendingWork(): number {
    return this.#background.size;
  }

  /**
   * Claims the ends of sessions that ran out of time and removes what the store must remove
   * itself; returns how many ended sessions it found, and delivers their `onSessionEnd`. Stores
   * without `sweep` (KV) return 0: their sessions are found at the pair's next resolve.
   */
  async cleanupExpired(): Promise<number> {
    const store = this.store;
    if (store.sweep === undefined) return 0;
    const ends = await this.#guard(
      () =>
        store.sweep?.({
          now: this.#clock(),
          retentionMs: this.#lifecycle.retentionMs,
          carryOverMs: this.#lifecycle.carryOverMs,
        }) ?? [],
    );
    for (const end of ends) this.#deliverEnd(end);
    return ends.length;
  }

  /** The user's live session with its age and idle time, or `null` when there is none. Does not renew. */
  async getSessionInfo(userId: string, namespace?: string): Promise<SessionInfo | null> {
    const ns = this.#key(userId, namespace);
    const now = this.#clock();
    const record = await this.#guard(() => this.store.get({ namespace: ns, userId, now }));
    if (record === null) return null;
    return {
      ...record,
      duration: (now - record.createdAt) / 1000,
      inactiveFor: (now - record.lastActivityAt) / 1000,
    };
  }

  /** The session's conversation items, oldest first; the last `limit` when given. `[]` once the session has ended. */
  async getItems(session: SessionRef, limit?: number): Promise<unknown[]> {
    if (limit !== undefined && !((Number.isInteger(limit) && limit >= 0) || limit === Number.POSITIVE_INFINITY)) {
      throw new SessionError({
        code: "INVALID_OPTION",
        message: `limit must be a whole number ≥ 0 (or Infinity for all), got ${describeValue(limit)}.`,
      });
    }
    // No session holds 2^31 items; larger limits mean "all", so stores never see numbers like 1e21.
    const storeLimit = limit === undefined || limit >= MAX_ITEMS_LIMIT ? undefined : limit;
    return this.#guard(() => this.#items().list(this.#itemsRequest(session), storeLimit));
  }

  /**
   * Appends conversation items (JSON values) to the session as one group (a turn), within the
   * session's bounds (`maxItems`, `maxItemBytes`: the oldest groups go first). With
   * `operationId`, appends once however often it is retried (a redelivered webhook, a retried
   * request). Rejects with `SESSION_ENDED` once the session has ended.
   */
  async addItems(session: SessionRef, items: readonly unknown[], options?: AddItemsOptions): Promise<void> {
    if (!Array.isArray(items)) {
      throw new SessionError({
        code: "INVALID_ITEMS",
        message: `items must be an array, got ${describeValue(items)}.`,
      });
    }
    if (items.length === 0) return;
    const store = this.#items();
    const operationId = options?.operationId;
    // A store without `apply` keeps no groups or bounds; only an operation id needs what it lacks.
    if (store.apply === undefined && operationId === undefined) {
      return this.#guard(() => store.append(this.#itemsRequest(session), items));
    }
    const change: ItemsChange = { type: "append", items, continuesGroup: options?.continuesGroup === true };
    await this.#applyItems(session, change, operationId);
  }

  /**
   * Applies one change to the session's items atomically: an append, a compare-and-swap of the
   * suffix (`replace-suffix`, `HISTORY_MISMATCH` when another writer got there first) or a
   * compaction (`replace-all`), then trims to the bounds. With `operationId`, a repeat of the
   * same change does nothing (`applied: false`) and a different change under that id fails with
   * `OPERATION_CONFLICT`. Needs a store whose items support `apply` (memory, Redis, Durable Object).
   */
  async changeItems(
    session: SessionRef,
    change: ItemsChange,
    options?: { operationId?: string },
  ): Promise<ItemsChangeResult> {
    return this.#applyItems(session, change, options?.operationId);
  }

  #applyItems(session: SessionRef, change: ItemsChange, operationId: string | undefined): Promise<ItemsChangeResult> {
    if (operationId !== undefined && (typeof operationId !== "string" || operationId.length === 0)) {
      throw new SessionError({
        code: "INVALID_OPTION",
        message: `operationId must be a non-empty string (e.g. the webhook's message id), got ${describeValue(operationId)}.`,
      });
    }
    const store = this.#items();
    if (store.apply === undefined) {
      throw new SessionError({
        code: "UNSUPPORTED",
        source: this.store.name,
        message: `The ${this.store.name} store cannot apply item changes atomically (operation ids, bounds, replace-suffix). Use a store whose items support apply, or plain addItems without operationId.`,
      });
    }
    const request: ItemsChangeRequest = this.#itemsRequest(session) as ItemsChangeRequest;
    request.bounds = this.#itemBounds;
    if (operationId !== undefined) request.operationId = operationId;
    return this.#guard(() => (store.apply as NonNullable<typeof store.apply>)(request, change));
  }

  /**
   * Keeps a run record (`RunRecord`, what adapters hand to `onRecord`) with its session and adds
   * it to the session's totals, atomically: `addRunRecord` is a ready-made `onRecord`. The record
   * names its session (`namespace`, `userId`, `sessionId`); a run that finished just after its
   * session ended is kept with the ended session while it is in history. Idempotent by `runId`.
   * Returns the session's totals. Rejects with `SESSION_ENDED` when the session is gone, and
   * `INVALID_OPTION` for a record without a session (`sessionId: null`, the store was down).
   */
  async addRunRecord(record: RunRecord): Promise<SessionTotals> {
    if (
      typeof record !== "object" ||
      record === null ||
      typeof record.runId !== "string" ||
      record.runId.length === 0
    ) {
      throw new SessionError({
        code: "INVALID_OPTION",
        message: `addRunRecord takes a RunRecord (from an adapter's onRecord) with a runId, got ${describeValue(record)}.`,
      });
    }
    if (typeof record.sessionId !== "string") {
      throw new SessionError({
        code: "INVALID_OPTION",
        message: `Run ${record.runId} has no session (sessionId null: the store could not be reached when it ran), so it cannot be kept with one.`,
      });
    }
    const runs = this.#runs();
    const request = {
      ...this.#itemsRequest({ namespace: record.namespace, userId: record.userId, sessionId: record.sessionId }),
      maxRuns: this.#maxRuns,
    };
    return this.#guard(() => runs.add(request, record));
  }

  /** The session's run records, oldest first, paged by `cursor` (`limit` default 100). */
  async listRunRecords(session: SessionRef, page?: { cursor?: string; limit?: number }): Promise<RunsPage> {
    const runs = this.#runs();
    return this.#guard(() => runs.list(this.#itemsRequest(session), page));
  }

  #runs(): SessionRunStore {
    const runs = this.store.runs;
    if (runs === undefined) {
      throw new SessionError({
        code: "UNSUPPORTED",
        source: this.store.name,
        message: `The ${this.store.name} store does not keep run records. Use the memory store, or send records to a record sink instead.`,
      });
    }
    return runs;
  }

  /** Removes and returns the session's newest item, or `undefined`. */
  async popItem(session: SessionRef): Promise<unknown> {
    return this.#guard(() => this.#items().pop(this.#itemsRequest(session)));
  }

  /** Removes all of the session's items. */
  async clearItems(session: SessionRef): Promise<void> {
    return this.#guard(() => this.#items().clear(this.#itemsRequest(session)));
  }

  /**
   * The store's answer, synchronous when the store's is (the memory store's): the async methods
   * above then cost one promise hop on the hot path instead of two.
   */
  #resolveInStore(
    userId: string,
    namespace: string | undefined,
    options: ResolveOptions | undefined,
  ): MaybePromise<ResolvedSession> {
    const request = this.#resolveRequest(userId, namespace, options);
    let session: MaybePromise<ResolvedSession>;
    try {
      session = this.store.resolve(request);
    } catch (error) {
      throw this.#storeError(error);
    }
    // One comparison on the hot path: false while not due, true when due or not yet scheduled (NaN).
    // After the resolve, so a cleanup never claims the end this resolve would report: the end
    // then comes with the resolve, before the start of the session that replaced it.
    if (!(request.now < this.#nextCleanupAt)) this.#cleanUpIfDue(request.now);
    if (isPromise(session)) return session.then(this.#afterResolve, this.#rethrowAsStoreError);
    // A hit (the common case) costs one property read here; only creations do more.
    return session.isNew ? this.#created(session) : session;
  }

  readonly #rethrowAsStoreError = (error: unknown): never => {
    throw this.#storeError(error);
  };

  readonly #afterResolve = (session: ResolvedSession): MaybePromise<ResolvedSession> =>
    session.isNew ? this.#created(session) : session;

  /**
   * Delivers what a creation ended and started (ends first), keeps other users' ends and the
   * carried items out of the caller's hands, and seeds the session from carried items.
   */
  #created(session: ResolvedSession): MaybePromise<ResolvedSession> {
    const { ended, evicted, carried } = session;
    let created = session;
    if (ended !== undefined || evicted !== undefined || carried !== undefined) {
      created = { ...session };
      delete created.ended;
      delete created.evicted;
      delete created.carried;
      if (ended !== undefined) this.#deliverEnd(ended);
      if (evicted !== undefined) for (const end of evicted) this.#deliverEnd(end);
    }
    const onSessionStart = this.#onSessionStart;
    if (onSessionStart !== undefined) {
      const event =
        created.previousSessionId === undefined
          ? { session: created }
          : { session: created, previousSessionId: created.previousSessionId };
      this.#deliver(onSessionStart, event, "onSessionStart", created);
    }
    return carried === undefined ? created : this.#seed(created, carried);
  }

  /** Appends what `carryOver.seed` makes of the carried items; never fails the resolve. */
  async #seed(session: ResolvedSession, carried: CarriedItems): Promise<ResolvedSession> {
    const seed = this.#carryOver?.seed;
    if (seed === undefined) return session;
    try {
      const items = await seed({ session, previousSessionId: carried.sessionId, items: carried.items });
      if (items !== undefined && items.length > 0) {
        // The id makes a retried seeding append once.
        await this.changeItems(session, { type: "append", items }, { operationId: `carry-over:${carried.sessionId}` });
      }
    } catch (error) {
      this.#errors.report(error, { operation: "carryOver", userId: session.userId, sessionId: session.sessionId });
    }
    return session;
  }

  #deliverEnd(end: SessionEndEvent): void {
    const onSessionEnd = this.#onSessionEnd;
    if (onSessionEnd !== undefined) this.#deliver(onSessionEnd, end, "onSessionEnd", end.session);
  }

  /**
   * Calls `handler(event)` in a microtask, never on the caller's path: microtasks run in the order
   * they were queued, so an end queued before a start is delivered before it.
   */
  #deliver<T>(
    handler: (event: T) => unknown,
    event: T,
    operation: string,
    session: { userId: string; sessionId: string },
  ): void {
    this.#background.track(
      Promise.resolve(event)
        .then(handler)
        .then(
          () => undefined,
          (error: unknown) =>
            this.#errors.report(error, { operation, userId: session.userId, sessionId: session.sessionId }),
        ),
    );
  }

  #resolveRequest(userId: string, namespace: string | undefined, options: ResolveOptions | undefined): ResolveRequest {
    const key = this.#key(userId, namespace);
    const now = this.#clock();
    return new PendingResolve(
      key,
      userId,
      now,
      this.#timeoutMs,
      options?.forceNew === true,
      this.#createId,
      this.#lifecycle,
    );
  }

  #cleanUpIfDue(now: number): void {
    const due = !Number.isNaN(this.#nextCleanupAt);
    // Move the deadline first, so calls arriving while it runs start no second cleanup.
    this.#nextCleanupAt = now + this.#cleanupIntervalMs;
    if (!due) return;
    this.#background.track(
      this.cleanupExpired().then(
        () => undefined,
        (error: unknown) => this.#errors.report(error, { operation: "cleanup" }),
      ),
    );
  }

  #key(userId: string, namespace: string | undefined): string {
    assertValidId(userId, "userId");
    if (namespace === undefined) return this.namespace;
    assertValidId(namespace, "namespace");
    return namespace;
  }

  #clock(): number {
    const now = this.#now();
    if (typeof now !== "number" || !Number.isFinite(now)) {
      throw new SessionError({
        code: "INVALID_OPTION",
        message: `The now() clock returned ${describeValue(now)}; it must return ms since epoch.`,
      });
    }
    return now;
  }

  #items() {
    const items = this.store.items;
    if (items === undefined) {
      throw new SessionError({
        code: "UNSUPPORTED",
        message: `The ${this.store.name} store does not keep conversation items. Use a store with items support (memory, Redis).`,
      });
    }
    return items;
  }

  #itemsRequest(session: SessionRef) {
    const namespace = this.#key(session?.userId, session?.namespace);
    if (typeof session.sessionId !== "string" || session.sessionId.length === 0) {
      throw new SessionError({
        code: "INVALID_SESSION_ID",
        message: "session.sessionId must be a non-empty string; pass the session from resolve().",
      });
    }
    return { namespace, userId: session.userId, sessionId: session.sessionId, now: this.#clock() };
  }

  /** Lets `SessionError`s through and wraps anything else a store throws, so callers can match on `code`. */
  async #guard<T>(operation: () => MaybePromise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw this.#storeError(error);
    }
  }

  #storeError(error: unknown): SessionError {
    if (SessionError.isInstance(error)) return error;
    // Not a SessionError: the store broke its contract (a bug, or a client error it did not map).
    return new SessionError({
      code: "STORE_ERROR",
      source: this.store.name,
      message: `The store failed unexpectedly: ${error instanceof Error ? error.message : String(error)}`,
      cause: error,
    });
  }
}

/** Item limits at or above this mean "all items". */
const MAX_ITEMS_LIMIT = 2 ** 31;

const storeMethods = ["resolve", "touch", "get", "close"] as const;

/** The store, if it is one; a clear error for the common mistakes (a factory not called, a wrong version). */
function checkedStore(store: unknown): SessionStore {
  if (typeof store === "function") {
    throw new SessionError({
      code: "INVALID_OPTION",
      message: `store must be a SessionStore object, got a function${store.name ? ` (${store.name})` : ""}. Call the factory: store: ${store.name || "memoryStore"}({ … }).`,
    });
  }
  const candidate = store as Partial<SessionStore> | null;
  if (typeof candidate !== "object" || candidate === null) {
    throw new SessionError({
      code: "INVALID_OPTION",
      message: `store must be a SessionStore object such as memoryStore() or redisStore({ client }), got ${describeValue(store)}.`,
    });
  }
  if (candidate.specificationVersion !== "v1") {
    throw new SessionError({
      code: "INVALID_OPTION",
      message: `store implements SessionStore ${describeValue(candidate.specificationVersion)}, this version of threadline needs "v1". Upgrade the store package or @threadline/session-core.`,
    });
  }
  const missing = storeMethods.filter((name) => typeof candidate[name] !== "function");
  if (missing.length > 0) {
    throw new SessionError({
      code: "INVALID_OPTION",
      message: `store is missing ${missing.join(", ")}: it does not implement the SessionStore contract v1.`,
    });
  }
  return store as SessionStore;
}

function sessionIdOf(session: ResolvedSession): string {
  return session.sessionId;
}

function isPromise<T>(value: MaybePromise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

// A class rather than an object literal with a closure: one allocation per call on the hot
// path, and the id is only formatted if the store actually creates a session.
class PendingResolve implements ResolveRequest {
  readonly namespace: string;
  readonly userId: string;
  readonly now: number;
  readonly timeoutMs: number;
  readonly forceNew: boolean;
  readonly retentionMs: number;
  readonly carryOverMs: number;
  readonly maxDurationMs: number | undefined;
  readonly maxTurns: number | undefined;
  readonly #createId: (context: SessionIdContext) => string;

  constructor(
    namespace: string,
    userId: string,
    now: number,
    timeoutMs: number,
    forceNew: boolean,
    createId: (context: SessionIdContext) => string,
    lifecycle: LifecycleSettings,
  ) {
    this.namespace = namespace;
    this.userId = userId;
    this.now = now;
    this.timeoutMs = timeoutMs;
    this.forceNew = forceNew;
    this.retentionMs = lifecycle.retentionMs;
    this.carryOverMs = lifecycle.carryOverMs;
    this.maxDurationMs = lifecycle.maxDurationMs;
    this.maxTurns = lifecycle.maxTurns;
    this.#createId = createId;
  }

  proposeSessionId(): string {
    return this.#createId({ namespace: this.namespace, userId: this.userId, now: this.now });
  }
}
