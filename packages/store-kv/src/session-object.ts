import {
  type ForgetResult,
  type ItemBounds,
  type ItemsChangeResult,
  type RunRecord,
  type SessionEndEvent,
  type SessionEndReason,
  SessionError,
  type SessionRecord,
  type SessionSummary,
  type SessionTotals,
} from "@threadline/session-core";
import {
  activeSummary,
  ended,
  endedSummary,
  type HistoryEntry,
  historyWith,
  isLive,
  isUnclaimedExpiry,
  keptHistory,
  renewed,
  resolveStored,
  type StoredResolution,
  type StoredSession,
  sessionEndedError,
  timeEndReason,
  toRecord,
  toResolved,
} from "@threadline/session-core/store-kit";
import type { DurableObjectStateLike, DurableObjectStorageLike } from "./bindings.js";
import { ExpiryIndex, INDEX_ROLE, INDEX_ROLE_KEY, UNCLAIMED_END_WINDOW_MS } from "./expiry-index.js";
import {
  adoptItems,
  emptyItems,
  type ItemsMeta,
  itemCount,
  type OperationRef,
  planChange,
  planDrop,
  planPop,
  readItems,
  StorageBatch,
} from "./object-items.js";
import { planRun, planRunsDrop, type RunsMeta, readRuns } from "./object-runs.js";
import {
  type ClaimResult,
  isObjectRequest,
  type ListStatus,
  type ObjectRequest,
  type ObjectResponse,
  type RunsAnswer,
  source,
  toWire,
  type WireItemsChange,
  type WireResolvedSession,
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
  /** Where the session's conversation items are (see object-items.ts). */
  items: ItemsMeta;
  /**
   * The carry-over (ms) of the last resolve that created or renewed the session, when not 0: the
   * alarm keeps an expired session's items that long past its expiry, so the claim of its end
   * (a later resolve or sweep) can still carry them over.
   */
  carryOverMs?: number;
  /**
   * An ended session's items kept for the pair's next session (carry-over) until `until` (the
   * Workers' clock; `localUntil` on this object's, for the alarm). The resolve that creates the
   * next session hands them out and deletes them.
   */
  carry?: { until: number; localUntil: number };
  /** Where the session's run records are, and their totals (see object-runs.ts); absent before the first. */
  runsMeta?: RunsMeta;
}

/** An earlier version's stored value: a count of items under `item:0` … instead of `items`. */
type StoredObjectSession = Omit<ObjectSession, "items"> & { items?: ItemsMeta; itemCount?: number };

/** An ended session kept for history, under `history:{sequence}`. */
interface ObjectHistoryEntry extends HistoryEntry {
  /** The ended session's `sequence`: its storage key, in creation order. */
  sequence: number;
  /** `keepUntil` on this object's clock, for the alarm. */
  localKeepUntil: number;
  /** The ended session's run records (see object-runs.ts); its totals are also `session.totals`. */
  runsMeta?: RunsMeta;
}

const SESSION_KEY = "session";
const HISTORY_PREFIX = "history:";

/**
 * The Durable Object behind {@link durableObjectStore}. Each (namespace, user) pair has one,
 * holding its session, the session's conversation items, the pair's ended sessions kept for
 * history, and the run records of the session and of those ended sessions (see object-runs.ts); a
 * few more (named apart from any pair) serve as the store's expiry index.
 *
 * Strictly consistent and atomic: the runtime runs one request at a time per object, the
 * pair's state is loaded once per activation and every change is decided in memory before its
 * storage writes, which go out without an `await` in between (one batch). The only awaits
 * before a decision are storage reads (the items' bookkeeping, see object-items.ts), during which
 * the runtime delivers no other request to the object (its input gate). So concurrent requests of
 * one user see one history, and an end is claimed once: whichever request (a resolve, close,
 * forget or a sweep's visit) claims it writes the claim in the same batch.
 *
 * While anything is stored an alarm is pending, on the object's own clock (`Date.now()`, the
 * only clock this package reads). It frees an expired session's items (after the carry-over its
 * last resolve asked for) and carried items nobody took, keeps an expired session whose end nobody
 * claimed for a day (`UNCLAIMED_END_WINDOW_MS`) so a sweep or the next resolve
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
        this.#storage.get<StoredObjectSession>(SESSION_KEY),
        this.#storage.list<ObjectHistoryEntry>({ prefix: HISTORY_PREFIX, reverse: true }),
        this.#storage.getAlarm(),
        this.#storage.get<string>(INDEX_ROLE_KEY),
      ]);
      // Values an earlier version wrote lack these: their creation is the best known mark, one turn,
      // and their items one group.
      if (stored) {
        const { itemCount: count, ...session } = stored;
        this.#session = {
          ...session,
          createdAtHighWater: stored.createdAtHighWater ?? stored.createdAt,
          turns: stored.turns ?? 1,
          items: stored.items ?? (await adoptItems(this.#storage, count ?? 0)),
        };
      }
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
    // Reads first (what the items' bookkeeping holds), then every write in one batch.
    const due = this.#session !== null && (this.#itemsUntil(this.#session) ?? Number.POSITIVE_INFINITY) <= local;
    const expired = this.#history.filter((entry) => entry.localKeepUntil <= local);
    const [freed, ...runsDropped] = await Promise.all([
      due && this.#session !== null ? planDrop(this.#storage, this.#session.items) : undefined,
      // History past its retention takes its runs with it.
      ...expired.flatMap((entry) =>
        entry.runsMeta === undefined ? [] : [planRunsDrop(this.#storage, entry.sequence, entry.runsMeta)],
      ),
    ]);
    this.#alarmAt = null;
    const writes: Promise<unknown>[] = [];
    const history = this.#history.filter((entry) => entry.localKeepUntil > local);
    if (expired.length > 0) {
      writes.push(...chunks(expired.map(historyKey)).map((keys) => this.#storage.delete(keys)));
      for (const batch of runsDropped) if (batch !== undefined) writes.push(...batch.issue(this.#storage));
      this.#history = history;
    }
    let session = this.#session;
    let next = Math.min(...history.map((entry) => entry.localKeepUntil));
    if (session !== null) {
      if (freed !== undefined) {
        // An expired session's items (past its carry-over), or carried items nobody took, go now;
        // the session stays until its end is claimed.
        const { carry: _carry, ...rest } = session;
        writes.push(...this.#commit({ ...rest, items: emptyItems(session.items) }, freed));
        session = this.#session as ObjectSession;
      }
      // Live: until it expires. Ended: the tombstone keeps the id history until it would have
      // expired, and carried items until theirs. Expired and unclaimed: a day for a sweep or the
      // next resolve to claim its end.
      const keepUntil = session.ended
        ? Math.max(session.localExpiresAt, session.carry?.localUntil ?? Number.NEGATIVE_INFINITY)
        : session.localExpiresAt > local
          ? session.localExpiresAt
          : session.localExpiresAt + UNCLAIMED_END_WINDOW_MS;
      // Past that, the value still stays while history does (the next id and link depend on it),
      // and the history's times decide the next alarm.
      if (keepUntil > local) next = Math.min(next, keepUntil);
      const itemsUntil = this.#itemsUntil(session);
      if (itemsUntil !== undefined && itemsUntil > local) next = Math.min(next, itemsUntil);
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

  /**
   * When (this object's clock) the session's items and their bookkeeping are due to go by time, or
   * `undefined` when it holds none or none go by time: an expired session's at its expiry, or
   * after the carry-over its last resolve asked for (capped by the day an unclaimed end is kept);
   * carried ones at the end of their carry-over.
   */
  #itemsUntil(session: ObjectSession): number | undefined {
    const { items } = session;
    if (itemCount(items) === 0 && items.opTail === items.opHead) return undefined;
    if (session.ended) return session.carry?.localUntil;
    return session.localExpiresAt + Math.min(session.carryOverMs ?? 0, UNCLAIMED_END_WINDOW_MS);
  }

  #handle(request: ObjectRequest): Promise<unknown> {
    switch (request.op) {
      case "resolve":
        return this.#resolve(request);
      case "touch":
        return this.#touch(request.now, request.timeoutMs);
      case "get":
        return Promise.resolve(isLive(this.#session, request.now) ? recordOf(this.#session) : null);
      case "close":
        return this.#close(request.now, request.sessionId, request.retentionMs, request.carryOverMs ?? 0);
      case "forget":
        return this.#forget(request.now);
      case "sessions":
        return Promise.resolve(this.#sessions(request.now, request.status, request.retentionMs));
      case "claim":
        return this.#claimExpired(request.now, request.retentionMs, request.carryOverMs ?? 0);
      case "append": {
        const change: WireItemsChange = {
          type: "append",
          texts: request.items,
          expectedSuffix: [],
          continuesGroup: false,
          fingerprint: "",
        };
        return this.#apply(request.sessionId, request.now, change, UNBOUNDED, null);
      }
      case "apply": {
        const bounds = {
          maxItems: request.maxItems ?? Number.POSITIVE_INFINITY,
          maxItemBytes: request.maxItemBytes ?? Number.POSITIVE_INFINITY,
        };
        const { operationId: id, operationKey: key } = request;
        const operation = id === null || key === null ? null : { id, key };
        return this.#apply(request.sessionId, request.now, request.change, bounds, operation);
      }
      case "list":
        return this.#list(request.sessionId, request.now, request.limit);
      case "pop":
        return this.#pop(request.sessionId, request.now);
      case "run":
        return this.#addRun(request);
      case "runs":
        return this.#runs(request.sessionId, request.now, request.after, request.limit);
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

  async #resolve(request: Extract<ObjectRequest, { op: "resolve" }>): Promise<WireResolvedSession> {
    const { now, candidate, retentionMs } = request;
    const carryOverMs = request.carryOverMs ?? 0;
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
      const next = this.#expiring(resolution.session, current, now, carryOverMs);
      await this.#save(next);
      const resolved = wireResolved({ ...resolution, session: next });
      if (next.runsMeta !== undefined) resolved.totals = { ...next.runsMeta.totals };
      return resolved;
    }
    // A new session: the previous one's items go, or (carry-over) go to the caller, once; its runs
    // stay with its history entry, or go when history does not keep it.
    const end =
      resolution.ended !== undefined && current !== null ? endWithTotals(resolution.ended, current) : undefined;
    const carriedFrom = current !== null && carries(current, end, carryOverMs, now) ? current : null;
    const [dropped, carriedTexts, runsDropped] = await Promise.all([
      current === null ? new StorageBatch() : planDrop(this.#storage, current.items),
      carriedFrom === null ? [] : readItems(this.#storage, carriedFrom.items),
      end === undefined || current === null ? [] : this.#planRunsLetGo(end, current, retentionMs, now),
    ]);
    const localExpiresAt = this.#clock() + (resolution.session.expiresAt - now);
    const next: ObjectSession = {
      ...resolution.session,
      localExpiresAt,
      items: emptyItems(current?.items),
      ...(carryOverMs > 0 ? { carryOverMs } : {}),
    };
    this.#erased = null;
    const writes = this.#commit(next, dropped);
    if (end !== undefined && current !== null) writes.push(...this.#keep(end, current, retentionMs, now));
    for (const batch of runsDropped) writes.push(...batch.issue(this.#storage));
    writes.push(...this.#alarmBy(localExpiresAt));
    await Promise.all(writes); // no await in between: the runtime commits them as one batch
    const resolved = wireResolved(end === undefined ? resolution : { ...resolution, ended: end });
    if (carriedFrom === null || carriedTexts.length === 0) return resolved;
    return { ...resolved, carried: { sessionId: carriedFrom.sessionId, texts: carriedTexts } };
  }

  async #touch(now: number, timeoutMs: number): Promise<unknown> {
    const current = this.#session;
    if (!isLive(current, now)) return null;
    const next = this.#expiring(renewed(current, now, timeoutMs), current, now);
    await this.#save(next);
    return recordOf(next);
  }

  async #close(
    now: number,
    onlySessionId: string | null,
    retentionMs: number,
    carryOverMs: number,
  ): Promise<SessionEndEvent | null> {
    const current = this.#session;
    if (!isLive(current, now)) return null;
    if (onlySessionId !== null && current.sessionId !== onlySessionId) return null;
    // Kept as a tombstone until the session would have expired, so the next id differs.
    const end = endOf(current, "closed", now);
    await this.#claim(current, end, { retentionMs, carryOverMs }, now);
    return end;
  }

  /** A sweep's visit: claims the end of a session that ran out of time by `now`, once. */
  async #claimExpired(now: number, retentionMs: number, carryOverMs: number): Promise<ClaimResult> {
    const current = this.#session;
    if (current === null || current.ended) return { end: null, dueAt: null };
    if (now < current.expiresAt) return { end: null, dueAt: current.expiresAt }; // live: look again then
    const end = endOf(current, timeEndReason(current), current.expiresAt);
    await this.#claim(current, end, { retentionMs, carryOverMs }, now);
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
          ? endOf(current, timeEndReason(current), current.expiresAt)
          : endOf(current, "forgotten", now);
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
    if (status !== "ended" && isLive(current, now)) summaries.push(activeSummary(recordOf(current)));
    if (status === "active") return summaries;
    if (isUnclaimedExpiry(current, now) && now < current.expiresAt + retentionMs) {
      summaries.push(endedSummary(endOf(current, timeEndReason(current), current.expiresAt)));
    }
    for (const entry of keptHistory(this.#history, now)) summaries.push(endedSummary(entry));
    return summaries;
  }

  /** One atomic items change (see object-items.ts), written with the session's record in one batch. */
  async #apply(
    sessionId: string,
    now: number,
    change: WireItemsChange,
    bounds: ItemBounds,
    operation: OperationRef | null,
  ): Promise<ItemsChangeResult> {
    const current = this.#liveSession(sessionId, now);
    if (current === undefined) throw sessionEndedError(source, sessionId);
    const planned = await planChange(this.#storage, current.items, change, bounds, operation);
    if (!("batch" in planned)) return planned; // a repeated operation id: nothing to write
    await Promise.all(this.#commit({ ...current, items: planned.meta }, planned.batch));
    return planned.result;
  }

  async #list(sessionId: string, now: number, limit: number | null): Promise<string[]> {
    const current = this.#liveSession(sessionId, now);
    if (current === undefined || limit === 0) return [];
    return readItems(this.#storage, current.items, limit);
  }

  async #pop(sessionId: string, now: number): Promise<string | null> {
    const current = this.#liveSession(sessionId, now);
    if (current === undefined || itemCount(current.items) === 0) return null;
    const { text, meta, batch } = await planPop(this.#storage, current.items);
    await Promise.all(this.#commit({ ...current, items: meta }, batch));
    return text;
  }

  /** Removes every item of the session and the operation ids applied to them (as the memory store does). */
  async #clear(sessionId: string, now: number): Promise<void> {
    const current = this.#liveSession(sessionId, now);
    if (current === undefined) return;
    const dropped = await planDrop(this.#storage, current.items);
    await Promise.all(this.#commit({ ...current, items: emptyItems(current.items) }, dropped));
  }

  /**
   * Keeps a run record with its session, live or still in history, and adds it to the totals: one
   * read (its run id, and the oldest runs when the bound drops them), then one batch with the
   * session's value or history entry. Idempotent by run id.
   */
  async #addRun(request: Extract<ObjectRequest, { op: "run" }>): Promise<SessionTotals> {
    const { sessionId, now } = request;
    const live = this.#liveSession(sessionId, now);
    const entry = live === undefined ? this.#historyEntry(sessionId, now) : undefined;
    const holder = live ?? entry;
    if (holder === undefined) throw sessionEndedError(source, sessionId);
    const record = JSON.parse(request.text) as RunRecord;
    const run = { record, text: request.text, runKey: request.runKey };
    const planned = await planRun(this.#storage, holder.sequence, holder.runsMeta, run, request.maxRuns);
    if (planned.batch === null) return { ...planned.meta.totals }; // kept before
    const { meta, batch } = planned;
    if (live !== undefined) {
      await Promise.all(this.#commit({ ...live, runsMeta: meta }, batch));
    } else if (entry !== undefined) {
      // An ended session's record in history shows the totals it reached (the end event keeps its own copy).
      entry.runsMeta = meta;
      entry.session = { ...entry.session, totals: { ...meta.totals } };
      batch.put(historyKey(entry), entry);
      await Promise.all(batch.issue(this.#storage));
    }
    return { ...meta.totals };
  }

  /** A page of the session's runs (live or in history), after run number `after`; none once they are gone. */
  async #runs(sessionId: string, now: number, after: number, limit: number): Promise<RunsAnswer> {
    const holder = this.#liveSession(sessionId, now) ?? this.#historyEntry(sessionId, now);
    if (holder === undefined) return { texts: [], next: null };
    return readRuns(this.#storage, holder.sequence, holder.runsMeta, after, limit);
  }

  /** The pair's ended session `sessionId` while it is in history. */
  #historyEntry(sessionId: string, now: number): ObjectHistoryEntry | undefined {
    return this.#history.find((entry) => entry.session.sessionId === sessionId && now < entry.keepUntil);
  }

  #liveSession(sessionId: string, now: number): ObjectSession | undefined {
    const current = this.#session;
    return isLive(current, now) && current.sessionId === sessionId ? current : undefined;
  }

  /**
   * Ends `session` with `end` (claimed here), in one batch: a tombstone, its items gone or kept for
   * carry-over until `endedAt + carryOverMs`, its operation ids gone, its history entry.
   */
  async #claim(
    session: ObjectSession,
    end: SessionEndEvent,
    keeping: { retentionMs: number; carryOverMs: number },
    now: number,
  ): Promise<void> {
    const carryUntil = end.endedAt + keeping.carryOverMs;
    const carrying = keeping.carryOverMs > 0 && carryUntil > now && itemCount(session.items) > 0;
    const [dropped, runsDropped] = await Promise.all([
      planDrop(this.#storage, session.items, carrying),
      this.#planRunsLetGo(end, session, keeping.retentionMs, now),
    ]);
    // The runs go to the history entry (or away): the tombstone keeps none.
    const {
      carry: _carry,
      carryOverMs: _carryOverMs,
      runsMeta: _runsMeta,
      ...rest
    } = ended(session, end.reason, end.endedAt);
    const localUntil = this.#clock() + (carryUntil - now);
    const tombstone: ObjectSession = carrying
      ? { ...rest, items: { ...session.items, opHead: 0, opTail: 0 }, carry: { until: carryUntil, localUntil } }
      : { ...rest, items: emptyItems(session.items) };
    await Promise.all([
      ...this.#commit(tombstone, dropped),
      ...this.#keep(end, session, keeping.retentionMs, now),
      ...runsDropped.flatMap((batch) => batch.issue(this.#storage)),
      // An expired session's alarm waits a day for the claim; claimed, the tombstone can go when it expires.
      ...this.#alarmBy(Math.max(session.localExpiresAt, this.#clock())),
      ...(carrying ? this.#alarmBy(localUntil) : []),
    ]);
  }

  /** The writes that keep `end` in history for `retentionMs` and drop entries past theirs or beyond the bound. */
  #keep(end: SessionEndEvent, session: ObjectSession, retentionMs: number, now: number): Promise<unknown>[] {
    if (retentionMs <= 0 && this.#history.length === 0) return [];
    const before = this.#history;
    const after = historyWith(before, end, retentionMs, now) as ObjectHistoryEntry[];
    const writes: Promise<unknown>[] = [];
    const added = after[0] !== undefined && !before.includes(after[0]) ? after[0] : undefined;
    if (added !== undefined) {
      added.sequence = session.sequence;
      if (session.runsMeta !== undefined) added.runsMeta = session.runsMeta;
      added.localKeepUntil = this.#clock() + (added.keepUntil - now);
      writes.push(this.#storage.put({ [historyKey(added)]: added }));
      writes.push(...this.#alarmBy(added.localKeepUntil));
    }
    const dropped = before.filter((entry) => !after.includes(entry)).map(historyKey);
    writes.push(...chunks(dropped).map((keys) => this.#storage.delete(keys)));
    this.#history = after;
    return writes;
  }

  /**
   * Plans deleting the runs that keeping `end` (of `session`) in history lets go: the session's own
   * when the retention does not keep it, and those of the entries it pushes out (past their
   * retention, or beyond the bound). Reads only; {@link #keep} then decides the same way.
   */
  #planRunsLetGo(
    end: SessionEndEvent,
    session: ObjectSession,
    retentionMs: number,
    now: number,
  ): Promise<StorageBatch[]> {
    const after = historyWith(this.#history, end, retentionMs, now);
    const keepsEnd = after[0] !== undefined && !this.#history.includes(after[0] as ObjectHistoryEntry);
    const letGo: Array<{ sequence: number; runsMeta?: RunsMeta }> = this.#history.filter(
      (entry) => !after.includes(entry),
    );
    if (!keepsEnd) letGo.push(session);
    return Promise.all(
      letGo.flatMap(({ sequence, runsMeta }) =>
        runsMeta === undefined ? [] : [planRunsDrop(this.#storage, sequence, runsMeta)],
      ),
    );
  }

  /** Moves the alarm to `time` if it is later (or unset), so what is due by then is collected. */
  #alarmBy(time: number): Promise<void>[] {
    if (this.#alarmAt !== null && this.#alarmAt <= time) return [];
    this.#alarmAt = time;
    return [this.#storage.setAlarm(time)];
  }

  /**
   * `session` (renewed) with the object-side fields of `previous`, a local expiry for its new
   * `expiresAt`, and the carry-over of the renewing resolve (a touch keeps the last one).
   */
  #expiring(
    session: StoredSession,
    previous: ObjectSession,
    now: number,
    carryOverMs = previous.carryOverMs ?? 0,
  ): ObjectSession {
    const { carry: _carry, carryOverMs: _carryOverMs, ...rest } = session as ObjectSession;
    return {
      ...rest,
      localExpiresAt: this.#clock() + (session.expiresAt - now),
      items: previous.items,
      ...(carryOverMs > 0 ? { carryOverMs } : {}),
    };
  }

  // Memory first, then storage: later requests are decided on the new state even while the
  // write is in flight, and the runtime holds the response until the write is durable.
  #save(session: ObjectSession): Promise<void> {
    this.#session = session;
    return this.#storage.put({ [SESSION_KEY]: session });
  }

  /** {@link #save} within `batch`: the session's value goes out in the same storage call as the items. */
  #commit(session: ObjectSession, batch: StorageBatch): Promise<unknown>[] {
    this.#session = session;
    batch.put(SESSION_KEY, session);
    return batch.issue(this.#storage);
  }

  /** Forgets the pair's state in memory, all but the id rule's marks (see `#erased`). */
  #erase(): void {
    const session = this.#session;
    if (session !== null) {
      // A tombstone without an end: the next session's id differs, and it links to nothing.
      const {
        endedAt: _endedAt,
        endReason: _endReason,
        carry: _carry,
        carryOverMs: _carryOverMs,
        runsMeta: _runsMeta,
        ...rest
      } = session;
      this.#erased = { ...rest, ended: true, items: emptyItems() };
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

/**
 * Whether the resolve that replaces `current` hands its items out (carry-over): it has items, and
 * either this resolve claimed its end with `carryOverMs` still running, or an earlier claim kept
 * them and their time has not run out.
 */
function carries(
  current: ObjectSession,
  claimed: SessionEndEvent | undefined,
  carryOverMs: number,
  now: number,
): boolean {
  if (itemCount(current.items) === 0) return false;
  if (claimed !== undefined) return carryOverMs > 0 && claimed.endedAt + carryOverMs > now;
  return current.ended && current.carry !== undefined && now < current.carry.until;
}

/** The resolved session without carried items (the resolve adds them as JSON texts). */
function wireResolved(resolution: StoredResolution): WireResolvedSession {
  const { carried: _none, ...resolved } = toResolved(resolution);
  return resolved;
}

/** The public record of `session`, with its run totals once it has runs. */
function recordOf(session: ObjectSession): SessionRecord {
  const record = toRecord(session);
  if (session.runsMeta !== undefined) record.totals = { ...session.runsMeta.totals };
  return record;
}

/** The end of `session` as the event every store hands out, with its totals as they were. */
function endOf(session: ObjectSession, reason: SessionEndReason, endedAt: number): SessionEndEvent {
  return { session: recordOf(session), reason, endedAt };
}

/** `end` (of `session`, as the kit made it) with the totals `session`'s runs reached. */
function endWithTotals(end: SessionEndEvent, session: ObjectSession): SessionEndEvent {
  return session.runsMeta === undefined ? end : { ...end, session: recordOf(session) };
}

const UNBOUNDED: ItemBounds = { maxItems: Number.POSITIVE_INFINITY, maxItemBytes: Number.POSITIVE_INFINITY };

function historyKey(entry: ObjectHistoryEntry): string {
  return `${HISTORY_PREFIX}${String(entry.sequence).padStart(12, "0")}`;
}

function reply(status: number, body: ObjectResponse): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}
