import type { DurableObjectStorageLike } from "./bindings.js";
import type { IndexVisit } from "./protocol.js";
import { chunks } from "./storage-calls.js";

// Durable Objects cannot be enumerated, so a sweep could not find the pairs whose sessions ran
// out of time. The store tells a few index objects (shards of one store) which pair object may
// have an end to claim, and when: a sweep takes the pairs due by its `now`, visits each (the pair
// object claims the end itself, atomically, so a pair visited twice hands its end out once) and
// settles what it found. Only pair object ids are kept here, never a user id.

/** One pair the index knows of. Stored under its due key. */
interface IndexEntry {
  objectId: string;
  /** When the pair may have an end to claim (ms, on the Workers' clock). */
  dueAt: number;
  /** Changes whenever the entry is written, so a settle from an older lease is ignored. */
  token: string;
  /** `dueAt` on this object's clock, for garbage collection. */
  localDueAt: number;
}

/**
 * How long (ms) past its due time the index keeps a pair no sweep has visited, and a pair object
 * keeps an expired session whose end nobody claimed. An app that never sweeps (no
 * `cleanupExpired`, no cron) still stores nothing forever.
 */
export const UNCLAIMED_END_WINDOW_MS: number = 24 * 60 * 60 * 1000;

const DUE_PREFIX = "due:";
const PAIR_PREFIX = "pair:";
/** Marks an object as an index, so its alarm collects index entries. */
export const INDEX_ROLE_KEY = "role";
export const INDEX_ROLE = "expiry-index";
// Entries the alarm inspects per run.
const COLLECT_BATCH = 256;

/** The expiry index inside one object: one request at a time, as the runtime runs objects. */
export class ExpiryIndex {
  readonly #storage: DurableObjectStorageLike;
  readonly #clock: () => number;
  #alarmAt: number | null;

  constructor(storage: DurableObjectStorageLike, clock: () => number, alarmAt: number | null) {
    this.#storage = storage;
    this.#clock = clock;
    this.#alarmAt = alarmAt;
  }

  /** Records that `objectId` may have an end at `dueAt`; an earlier due time already known wins. */
  async watch(objectId: string, dueAt: number, now: number): Promise<void> {
    const current = await this.#entry(objectId);
    const due = current === undefined ? dueAt : Math.min(current.entry.dueAt, dueAt);
    const writes = [this.#write({ objectId, dueAt: due, token: token(), localDueAt: this.#local(due, now) }, current)];
    if (current === undefined) writes.push(this.#storage.put({ [INDEX_ROLE_KEY]: INDEX_ROLE }));
    const collectAt = this.#local(due, now) + UNCLAIMED_END_WINDOW_MS;
    if (this.#alarmAt === null || this.#alarmAt > collectAt) {
      this.#alarmAt = collectAt;
      writes.push(this.#storage.setAlarm(collectAt));
    }
    await Promise.all(writes);
  }

  async unwatch(objectId: string): Promise<void> {
    const current = await this.#entry(objectId);
    if (current !== undefined) await this.#storage.delete([current.key, pairKey(objectId)]);
  }

  /** Up to `limit` pairs due by `now`, each leased until `now + leaseMs` (it is due again then if not settled). */
  async take(now: number, limit: number, leaseMs: number): Promise<Array<{ objectId: string; token: string }>> {
    const due = await this.#storage.list<IndexEntry>({ prefix: DUE_PREFIX, end: dueKey(now + 1, ""), limit });
    const taken: Array<{ objectId: string; token: string }> = [];
    const puts: Record<string, unknown> = {};
    for (const entry of due.values()) {
      const leased: IndexEntry = { ...entry, dueAt: now + leaseMs, token: token() };
      puts[dueKey(leased.dueAt, entry.objectId)] = leased;
      puts[pairKey(entry.objectId)] = dueKey(leased.dueAt, entry.objectId);
      taken.push({ objectId: entry.objectId, token: leased.token });
    }
    await Promise.all([
      ...chunks(Object.entries(puts)).map((chunk) => this.#storage.put(Object.fromEntries(chunk))),
      ...chunks([...due.keys()]).map((keys) => this.#storage.delete(keys)),
    ]);
    return taken;
  }

  /** Applies what a sweep found: drops pairs with nothing left to claim, moves the others to their new due time. */
  async settle(visits: readonly IndexVisit[], now: number): Promise<void> {
    const puts: Record<string, unknown> = {};
    const deletes: string[] = [];
    for (const visit of visits) {
      const current = await this.#entry(visit.objectId);
      if (current === undefined || current.entry.token !== visit.token) continue; // watched again meanwhile
      deletes.push(current.key);
      if (visit.dueAt === null) {
        deletes.push(pairKey(visit.objectId));
        continue;
      }
      const next = { ...current.entry, dueAt: visit.dueAt, token: token(), localDueAt: this.#local(visit.dueAt, now) };
      puts[dueKey(next.dueAt, next.objectId)] = next;
      puts[pairKey(next.objectId)] = dueKey(next.dueAt, next.objectId);
    }
    // A moved entry's old due key is deleted and its new one written; they never coincide (a lease moved it).
    await Promise.all([
      ...chunks(Object.entries(puts)).map((chunk) => this.#storage.put(Object.fromEntries(chunk))),
      ...chunks(deletes.filter((key) => !(key in puts))).map((keys) => this.#storage.delete(keys)),
    ]);
  }

  /** Drops pairs no sweep visited within {@link UNCLAIMED_END_WINDOW_MS} of their due time. */
  async alarm(): Promise<void> {
    const local = this.#clock();
    this.#alarmAt = null;
    const entries = await this.#storage.list<IndexEntry>({ prefix: DUE_PREFIX, limit: COLLECT_BATCH });
    const stale: string[] = [];
    let next = Number.POSITIVE_INFINITY;
    for (const [key, entry] of entries) {
      const collectAt = entry.localDueAt + UNCLAIMED_END_WINDOW_MS;
      if (collectAt <= local) stale.push(key, pairKey(entry.objectId));
      else next = Math.min(next, collectAt);
    }
    await Promise.all(chunks(stale).map((keys) => this.#storage.delete(keys)));
    if (entries.size === COLLECT_BATCH && next === Number.POSITIVE_INFINITY) next = local; // a full batch was stale: go on
    if (next === Number.POSITIVE_INFINITY) {
      const left = await this.#storage.list({ prefix: DUE_PREFIX, limit: 1 });
      if (left.size === 0) {
        await this.#storage.deleteAll();
        return;
      }
      next = local + UNCLAIMED_END_WINDOW_MS;
    }
    this.#alarmAt = next;
    await this.#storage.setAlarm(next);
  }

  async #entry(objectId: string): Promise<{ key: string; entry: IndexEntry } | undefined> {
    const key = await this.#storage.get<string>(pairKey(objectId));
    if (key === undefined) return undefined;
    const entry = await this.#storage.get<IndexEntry>(key);
    return entry === undefined ? undefined : { key, entry };
  }

  #write(entry: IndexEntry, previous: { key: string } | undefined): Promise<unknown> {
    const key = dueKey(entry.dueAt, entry.objectId);
    const put = this.#storage.put({ [key]: entry, [pairKey(entry.objectId)]: key });
    return previous === undefined || previous.key === key
      ? put
      : Promise.all([put, this.#storage.delete([previous.key])]);
  }

  /** `time` on the Workers' clock as this object's clock reads it (the offset `now` shows). */
  #local(time: number, now: number): number {
    return this.#clock() + (time - now);
  }
}

/** Due keys sort by due time: 16 digits hold any ms timestamp until the year 318857. */
function dueKey(dueAt: number, objectId: string): string {
  return `${DUE_PREFIX}${String(Math.max(0, Math.floor(dueAt))).padStart(16, "0")}:${objectId}`;
}

function pairKey(objectId: string): string {
  return `${PAIR_PREFIX}${objectId}`;
}

function token(): string {
  return crypto.randomUUID();
}
