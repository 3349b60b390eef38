import { SessionError } from "@threadline/session-core";
import {
  isLive,
  nextSession,
  renewed,
  type StoredSession,
  sessionEndedError,
  toRecord,
  toResolved,
} from "@threadline/session-core/store-kit";
import type { DurableObjectStateLike, DurableObjectStorageLike } from "./bindings.js";
import { isObjectRequest, type ObjectRequest, type ObjectResponse, source, toWire } from "./protocol.js";

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

const SESSION_KEY = "session";
const ITEM_PREFIX = "item:";
// Cloudflare's storage API takes at most 128 keys per put, get or delete (Miniflare does not enforce it).
const KEYS_PER_CALL = 128;

/**
 * The Durable Object behind {@link durableObjectStore}: one instance per (namespace, user),
 * holding that user's session and conversation items.
 *
 * Strictly consistent and atomic: the runtime runs one request at a time per object, the
 * session is loaded once per activation and every change is decided in memory before its
 * storage write, so concurrent requests of one user see one history. Each renewal is written
 * (exact renewal). While a session (or its tombstone) is stored an alarm is pending; it
 * deletes the object's storage once the session has expired, by the object's own clock
 * (`Date.now()`, the only clock this package reads), and otherwise moves itself to the expiry.
 *
 * Export it from your Worker's main module and bind it (see the README):
 * `export { ThreadlineSessionObject } from "@threadline/store-kv";`
 */
export class ThreadlineSessionObject {
  readonly #storage: DurableObjectStorageLike;
  readonly #clock: () => number;
  #session: ObjectSession | null = null;

  /**
   * Called by the runtime with the object's state; the environment is not used. `clock`
   * (ms since epoch, default `Date.now`) is for subclasses in tests and benchmarks that
   * simulate time; the runtime never passes it.
   */
  constructor(state: DurableObjectStateLike, _env?: unknown, clock: () => number = Date.now) {
    this.#storage = state.storage;
    this.#clock = clock;
    // The documented pattern: no request is delivered until the session is loaded.
    void state.blockConcurrencyWhile(async () => {
      const stored = await this.#storage.get<ObjectSession>(SESSION_KEY);
      // Values written before the high-water mark existed: their creation is the best known mark.
      this.#session = stored ? { ...stored, createdAtHighWater: stored.createdAtHighWater ?? stored.createdAt } : null;
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

  /** Deletes everything once the session has expired, or moves the alarm to the session's new expiry. */
  async alarm(): Promise<void> {
    const session = this.#session;
    if (session !== null && session.localExpiresAt > this.#clock()) {
      await this.#storage.setAlarm(session.localExpiresAt);
      return;
    }
    this.#session = null;
    await this.#storage.deleteAll();
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
        return this.#close(request.now, request.sessionId);
      case "append":
        return this.#append(request.sessionId, request.now, request.items);
      case "list":
        return this.#list(request.sessionId, request.now, request.limit);
      case "pop":
        return this.#pop(request.sessionId, request.now);
      case "clear":
        return this.#clear(request.sessionId, request.now);
    }
  }

  async #resolve(request: Extract<ObjectRequest, { op: "resolve" }>): Promise<unknown> {
    const { now, timeoutMs } = request;
    const current = this.#session;
    if (!request.forceNew && isLive(current, now)) {
      const next = this.#expiring(renewed(current, now, timeoutMs), current, now);
      await this.#save(next);
      return toResolved(next, false);
    }
    const created = nextSession(current, request, request.candidate, now, timeoutMs);
    const localExpiresAt = this.#clock() + timeoutMs;
    const next: ObjectSession = { ...created, localExpiresAt, itemCount: 0 };
    const writes = [this.#save(next), this.#deleteItems(current?.itemCount ?? 0)];
    // An alarm is pending while anything is stored, so only the first session sets one; the
    // alarm moves itself to later expiries when it fires, instead of every renewal moving it.
    if (current === null) writes.push(this.#storage.setAlarm(localExpiresAt));
    await Promise.all(writes); // no await in between: the runtime commits them as one batch
    return toResolved(next, true);
  }

  async #touch(now: number, timeoutMs: number): Promise<unknown> {
    const current = this.#session;
    if (!isLive(current, now)) return null;
    const next = this.#expiring(renewed(current, now, timeoutMs), current, now);
    await this.#save(next);
    return toRecord(next);
  }

  async #close(now: number, onlySessionId: string | null): Promise<boolean> {
    const current = this.#session;
    if (!isLive(current, now)) return false;
    if (onlySessionId !== null && current.sessionId !== onlySessionId) return false;
    // Keep the id as a tombstone until the session would have expired; the alarm removes it.
    const tombstone: ObjectSession = { ...current, ended: true, itemCount: 0 };
    await Promise.all([this.#save(tombstone), this.#deleteItems(current.itemCount)]);
    return true;
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
}

function itemKey(index: number): string {
  return `${ITEM_PREFIX}${String(index).padStart(12, "0")}`;
}

function chunks<T>(values: T[]): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < values.length; start += KEYS_PER_CALL) {
    result.push(values.slice(start, start + KEYS_PER_CALL));
  }
  return result;
}

function reply(status: number, body: ObjectResponse): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}
