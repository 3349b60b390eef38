import { type ForgetResult, type SessionEndEvent, SessionError, type SessionSummary } from "@threadline/session-core";
import {
  activeSummary,
  endEvent,
  ended,
  endedSummary,
  type HistoryEntry,
  historyWith,
  isLive,
  isUnclaimedExpiry,
  keptHistory,
  renewed,
  resolveStored,
  type StoredSession,
  sessionEndedError,
  timeEndReason,
  toRecord,
  toResolved,
} from "@threadline/session-core/store-kit";
import type { DurableObjectStateLike, DurableObjectStorageLike } from "./bindings.js";
import { ExpiryIndex, INDEX_ROLE, INDEX_ROLE_KEY, UNCLAIMED_END_WINDOW_MS } from "./expiry-index.js";
import {
  type ClaimResult,
  isObjectRequest,
  type ListStatus,
  type ObjectRequest,
  type ObjectResponse,
  source,
  toWire,
} from "./protocol.js";
import { chunks } from "./storage-calls.js";

/** The session as the object stores it. */
interface ObjectSession extends StoredSession {
  /**
   * When the session expires by this object's own clock (ms). Cleanup runs on the object's
   * clock, which need not match the Worker's `now` (a test's fake clock, or another machine's),
   * so the time left is carried over rather than `expiresAt` itself. The request reaches the
   * object after the Worker read its clock, so this is never earlier than the true expiry.
   */
  localExpiresAt: number;
  /** Conversation items stored under `item:0` … `item:{itemCount - 1}`, oldest first. */
  itemCount: number;
}

/** An ended session kept for history, under `history:{sequence}`. */
interface ObjectHistoryEntry extends HistoryEntry {
  /** The ended session's `sequence`: its storage key, in creation order. */
  sequence: number;
  /** `keepUntil` on this object's clock, for the alarm. */
  localKeepUntil: number;
}

const SESSION_KEY = "session";
const ITEM_PREFIX = "item:";
const HISTORY_PREFIX = "history:";

/**
 * The Durable Object behind {@link durableObjectStore}. Each (namespace, user) pair has one,
 * holding its session, the session's conversation items and the pair's ended sessions kept for
 * history; a few more (named apart from any pair) serve as the store's expiry index.
 *
 * Strictly consistent and atomic: the runtime runs one request at a time per object, the
 * pair's state is loaded once per activation and every change is decided in memory before its
 * storage writes, which go out without an `await` in between (one batch). So concurrent
 * requests of one user see one history, and an end is claimed once: whichever request (a
 * resolve, close, forget or a sweep's visit) claims it writes the claim in the same batch.
 *
 * While anything is stored an alarm is pending, on the object's own clock (`Date.now()`, the
 * only clock this package reads). It frees an expired session's items, keeps an expired session
 * whose end nobody claimed for a day (`UNCLAIMED_END_WINDOW_MS`) so a sweep or the next resolve
 * can still claim it, drops history past its retention, and deletes the storage when nothing is left.
 *
 * Export it from your Worker's main module and bind it (see the README):
 * `export { ThreadlineSessionObject } from "@threadline/store-kv";`
 */
export class ThreadlineSessionObject {
  readonly #storage: DurableObjectStorageLike;
  readonly #clock: () => number;
  #session: ObjectSession | null = null;
  /** Newest first. */
  #history: ObjectHistoryEntry[] = [];
  #alarmAt: number | null = null;
  #index: ExpiryIndex | null = null;
  /**
   * After `forget` (or the alarm) erased the storage: what the id rule needs of the erased
   * session (its base id, sequence and creation high-water mark), kept in memory only, so a
   * session created right after, in the same second, still gets a different id. Nothing of the
   * pair stays in storage; an object evicted meanwhile starts over, as the README says.
   */
  #erased: ObjectSession | null = null;

  /**
   * Called by the runtime with the object's state; the environment is not used. `clock`
   * (ms since epoch, default `Date.now`) is for subclasses in tests and benchmarks that
   * simulate time; the runtime never passes it.
   */
  constructor(state: DurableObjectStateLike, _env?: unknown, clock: () => number = Date.now) {
    this.#storage = state.storage;
    this.#clock = clock;
    // The documented pattern: no request is delivered until the state is loaded.
    void state.blockConcurrencyWhile(async () => {
      const [stored, history, alarmAt, role] = await Promise.all([
        this.#storage.get<ObjectSession>(SESSION_KEY),
        this.#storage.list<ObjectHistoryEntry>({ prefix: HISTORY_PREFIX, reverse: true }),
        this.#storage.getAlarm(),
        this.#storage.get<string>(INDEX_ROLE_KEY),
      ]);
      // Values an earlier version wrote lack these: their creation is the best known mark, one turn.
      this.#session = stored
        ? { ...stored, createdAtHighWater: stored.createdAtHighWater ?? stored.createdAt, turns: stored.turns ?? 1 }
        : null;
      this.#history = [...history.values()];
      this.#alarmAt = alarmAt;
      if (role === INDEX_ROLE) this.#index = new ExpiryIndex(this.#storage, this.#clock, alarmAt);
    });
  }

  /** Serves the store's requests (JSON over POST). Not meant to be called from elsewhere. */
  async fetch(request: { json(): Promise<unknown> }): Promise<Response> {
    const body = await request.json().catch(() => undefined);
    if (!isObjectRequest(body)) {
      return reply(400, { error: toWire(new Error("it got a request it does not understand.")) });
    }
    try {
      // `null` for operations without a result, so the answer always carries the field.
      return reply(200, { result: (await this.#handle(body)) ?? null });
    } catch (error) {
      return reply(SessionError.isInstance(error) ? 409 : 500, { error: toWire(error) });
    }
  }

  /** Collects what has run out of time (see the class comment) and sets the next alarm, if anything is left. */
  async alarm(): Promise<void> {
    if (this.#index !== null) return this.#index.alarm();
    const local = this.#clock();
    this.#alarmAt = null;
    const writes: Promise<unknown>[] = [];
    const history = this.#history.filter((entry) => entry.localKeepUntil > local);
    if (history.length < this.#history.length) {
      const dropped = this.#history.filter((entry) => entry.localKeepUntil <= local).map(historyKey);
      writes.push(...chunks(dropped).map((keys) => this.#storage.delete(keys)));
      this.#history = history;
    }
    let session = this.#session;
    let next = Math.min(...history.map((entry) => entry.localKeepUntil));
    if (session !== null) {
      if (!session.ended && session.localExpiresAt <= local && session.itemCount > 0) {
        // Expired: its items go now; the session stays until its end is claimed.
        writes.push(this.#deleteItems(session.itemCount), this.#save({ ...session, itemCount: 0 }));
        session = this.#session as ObjectSession;
      }
      // Live: until it expires. Ended: the tombstone keeps the id history until it would have expired.
      // Expired and unclaimed: a day for a sweep or the next resolve to claim its end.
      const keepUntil =
        session.ended || session.localExpiresAt > local
          ? session.localExpiresAt
          : session.localExpiresAt + UNCLAIMED_END_WINDOW_MS;
      // Past that, the value still stays while history does (the next id and link depend on it),
      // and the history's times decide the next alarm.
      if (keepUntil > local) next = Math.min(next, keepUntil);
    }
    if (next === Number.POSITIVE_INFINITY) {
      await Promise.all(writes); // the deletes above are part of everything
      this.#erase();
      await this.#storage.deleteAll();
      return;
    }
    this.#alarmAt = next;
    writes.push(this.#storage.setAlarm(this.#alarmAt));
    await Promise.all(writes);
  }

  #handle(request: ObjectRequest): Promise<unknown> {
    switch (request.op) {
      case "resolve":
        return this.#resolve(request);
      case "touch":
        return this.#touch(request.now, request.timeoutMs);
      case "get":
        return Promise.resolve(isLive(this.#session, request.now) ? toRecord(this.#session) : null);
      case "close":
        return this.#close(request.now, request.sessionId, request.retentionMs);
      case "forget":
        return this.#forget(request.now);
      case "sessions":
        return Promise.resolve(this.#sessions(request.now, request.status, request.retentionMs));
      case "claim":
        return this.#claimExpired(request.now, request.retentionMs);
      case "append":
        return this.#append(request.sessionId, request.now, request.items);
      case "list":
        return this.#list(request.sessionId, request.now, request.limit);
      case "pop":
        return this.#pop(request.sessionId, request.now);
      case "clear":
        return this.#clear(request.sessionId, request.now);
      case "watch":
        return this.#indexRole().watch(request.objectId, request.dueAt, request.now);
      case "unwatch":
        return this.#indexRole().unwatch(request.objectId);
      case "take":
        return this.#indexRole().take(request.now, request.limit, request.leaseMs);
      case "settle":
        return this.#indexRole().settle(request.visits, request.now);
    }
  }

  async #resolve(request: Extract<ObjectRequest, { op: "resolve" }>): Promise<unknown> {
    const { now, candidate, retentionMs } = request;
    const current = this.#session;
    const resolution = resolveStored(current ?? this.#erased, {
      namespace: request.namespace,
      userId: request.userId,
      now,
      timeoutMs: request.timeoutMs,
      forceNew: request.forceNew,
      retentionMs,
      ...(request.maxDurationMs === null ? {} : { maxDurationMs: request.maxDurationMs }),
      ...(request.maxTurns === null ? {} : { maxTurns: request.maxTurns }),
      proposeSessionId: () => candidate,
    });
    if (!resolution.isNew && current !== null) {
      const next = this.#expiring(resolution.session, current, now);
      await this.#save(next);
      return toResolved({ ...resolution, session: next });
    }
    const localExpiresAt = this.#clock() + (resolution.session.expiresAt - now);
    const next: ObjectSession = { ...resolution.session, localExpiresAt, itemCount: 0 };
    this.#erased = null;
    const writes: Promise<unknown>[] = [this.#save(next), this.#deleteItems(current?.itemCount ?? 0)];
    if (resolution.ended !== undefined && current !== null) {
      writes.push(...this.#keep(resolution.ended, current.sequence, retentionMs, now));
    }
    writes.push(...this.#alarmBy(localExpiresAt));
    await Promise.all(writes); // no await in between: the runtime commits them as one batch
    return toResolved(resolution);
  }

  async #touch(now: number, timeoutMs: number): Promise<unknown> {
    const current = this.#session;
    if (!isLive(current, now)) return null;
    const next = this.#expiring(renewed(current, now, timeoutMs), current, now);
    await this.#save(next);
    return toRecord(next);
  }

  async #close(now: number, onlySessionId: string | null, retentionMs: number): Promise<SessionEndEvent | null> {
    const current = this.#session;
    if (!isLive(current, now)) return null;
    if (onlySessionId !== null && current.sessionId !== onlySessionId) return null;
    // Kept as a tombstone until the session would have expired, so the next id differs.
    const end = endEvent(current, "closed", now);
    await Promise.all(this.#claim(current, end, retentionMs, now));
    return end;
  }

  /** A sweep's visit: claims the end of a session that ran out of time by `now`, once. */
  async #claimExpired(now: number, retentionMs: number): Promise<ClaimResult> {
    const current = this.#session;
    if (current === null || current.ended) return { end: null, dueAt: null };
    if (now < current.expiresAt) return { end: null, dueAt: current.expiresAt }; // live: look again then
    const end = endEvent(current, timeEndReason(current), current.expiresAt);
    await Promise.all(this.#claim(current, end, retentionMs, now));
    return { end, dueAt: null };
  }

  /** Removes everything of the pair, its alarm included; the live (or unclaimed) session's end goes with the answer. */
  async #forget(now: number): Promise<ForgetResult> {
    const current = this.#session;
    if (current === null && this.#history.length === 0) return { removed: 0 };
    let end: SessionEndEvent | undefined;
    if (current !== null && !current.ended) {
      end =
        now >= current.expiresAt
          ? endEvent(current, timeEndReason(current), current.expiresAt)
          : endEvent(current, "forgotten", now);
    }
    const removed = (end === undefined ? 0 : 1) + keptHistory(this.#history, now).length;
    this.#erase();
    await Promise.all([this.#storage.deleteAll(), this.#storage.deleteAlarm()]);
    return end === undefined ? { removed } : { removed, ended: end };
  }

  /**
   * The pair's sessions with `status`, newest first: live, expired and unclaimed (within the
   * retention), then history in the order the sessions were created (keyed by their sequence).
   */
  #sessions(now: number, status: ListStatus, retentionMs: number): SessionSummary[] {
    const current = this.#session;
    const summaries: SessionSummary[] = [];
    if (status !== "ended" && isLive(current, now)) summaries.push(activeSummary(toRecord(current)));
    if (status === "active") return summaries;
    if (isUnclaimedExpiry(current, now) && now < current.expiresAt + retentionMs) {
      summaries.push(endedSummary(endEvent(current, timeEndReason(current), current.expiresAt)));
    }
    for (const entry of keptHistory(this.#history, now)) summaries.push(endedSummary(entry));
    return summaries;
  }

  async #append(sessionId: string, now: number, items: string[]): Promise<void> {
    const current = this.#liveSession(sessionId, now);
    if (current === undefined) throw sessionEndedError(source, sessionId);
    const entries = items.map((item, index): [string, string] => [itemKey(current.itemCount + index), item]);
    const writes = chunks(entries).map((chunk) => this.#storage.put(Object.fromEntries(chunk)));
    writes.push(this.#save({ ...current, itemCount: current.itemCount + items.length }));
    await Promise.all(writes);
  }

  async #list(sessionId: string, now: number, limit: number | null): Promise<string[]> {
    const current = this.#liveSession(sessionId, now);
    if (current === undefined || current.itemCount === 0 || limit === 0) return [];
    const first = limit === null ? 0 : Math.max(0, current.itemCount - limit);
    const stored = await this.#storage.list<string>({ prefix: ITEM_PREFIX, start: itemKey(first) });
    return [...stored.values()];
  }

  async #pop(sessionId: string, now: number): Promise<string | null> {
    const current = this.#liveSession(sessionId, now);
    if (current === undefined || current.itemCount === 0) return null;
    const key = itemKey(current.itemCount - 1);
    const item = (await this.#storage.get<string>(key)) ?? null;
    await Promise.all([this.#storage.delete([key]), this.#save({ ...current, itemCount: current.itemCount - 1 })]);
    return item;
  }

  async #clear(sessionId: string, now: number): Promise<void> {
    const current = this.#liveSession(sessionId, now);
    if (current === undefined) return;
    await Promise.all([this.#deleteItems(current.itemCount), this.#save({ ...current, itemCount: 0 })]);
  }

  #liveSession(sessionId: string, now: number): ObjectSession | undefined {
    const current = this.#session;
    return isLive(current, now) && current.sessionId === sessionId ? current : undefined;
  }

  /** The writes that end `session` with `end` (claimed here): a tombstone, its items gone, its history entry. */
  #claim(session: ObjectSession, end: SessionEndEvent, retentionMs: number, now: number): Promise<unknown>[] {
    const tombstone: ObjectSession = { ...ended(session, end.reason, end.endedAt), itemCount: 0 };
    return [
      this.#save(tombstone),
      this.#deleteItems(session.itemCount),
      ...this.#keep(end, session.sequence, retentionMs, now),
      // An expired session's alarm waits a day for the claim; claimed, the tombstone can go when it expires.
      ...this.#alarmBy(Math.max(session.localExpiresAt, this.#clock())),
    ];
  }

  /** The writes that keep `end` in history for `retentionMs` and drop entries past theirs or beyond the bound. */
  #keep(end: SessionEndEvent, sequence: number, retentionMs: number, now: number): Promise<unknown>[] {
    if (retentionMs <= 0 && this.#history.length === 0) return [];
    const before = this.#history;
    const after = historyWith(before, end, retentionMs, now) as ObjectHistoryEntry[];
    const writes: Promise<unknown>[] = [];
    const added = after[0] !== undefined && !before.includes(after[0]) ? after[0] : undefined;
    if (added !== undefined) {
      added.sequence = sequence;
      added.localKeepUntil = this.#clock() + (added.keepUntil - now);
      writes.push(this.#storage.put({ [historyKey(added)]: added }));
      writes.push(...this.#alarmBy(added.localKeepUntil));
    }
    const dropped = before.filter((entry) => !after.includes(entry)).map(historyKey);
    writes.push(...chunks(dropped).map((keys) => this.#storage.delete(keys)));
    this.#history = after;
    return writes;
  }

  /** Moves the alarm to `time` if it is later (or unset), so what is due by then is collected. */
  #alarmBy(time: number): Promise<void>[] {
    if (this.#alarmAt !== null && this.#alarmAt <= time) return [];
    this.#alarmAt = time;
    return [this.#storage.setAlarm(time)];
  }

  /** `session` with the object-side fields of `previous` and a local expiry for its new `expiresAt`. */
  #expiring(session: StoredSession, previous: ObjectSession, now: number): ObjectSession {
    return {
      ...session,
      localExpiresAt: this.#clock() + (session.expiresAt - now),
      itemCount: previous.itemCount,
    };
  }

  // Memory first, then storage: later requests are decided on the new state even while the
  // write is in flight, and the runtime holds the response until the write is durable.
  #save(session: ObjectSession): Promise<void> {
    this.#session = session;
    return this.#storage.put({ [SESSION_KEY]: session });
  }

  async #deleteItems(count: number): Promise<void> {
    if (count === 0) return;
    const keys = Array.from({ length: count }, (_, index) => itemKey(index));
    await Promise.all(chunks(keys).map((chunk) => this.#storage.delete(chunk)));
  }

  /** Forgets the pair's state in memory, all but the id rule's marks (see `#erased`). */
  #erase(): void {
    const session = this.#session;
    if (session !== null) {
      // A tombstone without an end: the next session's id differs, and it links to nothing.
      const { endedAt: _endedAt, endReason: _endReason, ...rest } = session;
      this.#erased = { ...rest, ended: true, itemCount: 0 };
    }
    this.#session = null;
    this.#history = [];
    this.#alarmAt = null;
  }

  #indexRole(): ExpiryIndex {
    this.#index ??= new ExpiryIndex(this.#storage, this.#clock, this.#alarmAt);
    return this.#index;
  }
}

function itemKey(index: number): string {
  return `${ITEM_PREFIX}${String(index).padStart(12, "0")}`;
}

function historyKey(entry: ObjectHistoryEntry): string {
  return `${HISTORY_PREFIX}${String(entry.sequence).padStart(12, "0")}`;
}

function reply(status: number, body: ObjectResponse): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}
