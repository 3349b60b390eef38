// The benchmark's Worker: runs a simulated day of conversations against each store inside
// workerd and answers with the operation counts. Driven by storage-ops.bench.ts.
import { SessionManager, type SessionStore } from "@threadline/session-core";
import {
  type DurableObjectNamespaceLike,
  type DurableObjectStateLike,
  durableObjectStore,
  EXPIRY_INDEX_SHARDS,
  type KVNamespaceLike,
  kvStore,
  sessionKey,
  ThreadlineSessionObject,
} from "../src/index.js";
import { countingKV } from "../test/support/counting-kv.js";
import { countingStorage, type SimulatedAlarm, type StorageCounts } from "./counting-storage.js";

interface Env {
  SESSIONS: KVNamespaceLike;
  BENCH_OBJECTS: DurableObjectNamespaceLike;
}

/** The session object with counted storage and a simulated clock: the `now` of the last request. */
export class CountingSessionObject extends ThreadlineSessionObject {
  readonly counts: StorageCounts & { requests: number; alarmRuns: number };
  readonly #alarm: SimulatedAlarm;
  readonly #time: { now: number };

  constructor(state: DurableObjectStateLike, env: unknown) {
    const counts = { reads: 0, writes: 0, requests: 0, alarmRuns: 0 };
    const alarm: SimulatedAlarm = { at: null };
    const time = { now: 0 };
    const storage = countingStorage(state.storage, counts, alarm);
    super({ storage, blockConcurrencyWhile: (callback) => state.blockConcurrencyWhile(callback) }, env, () => time.now);
    this.counts = counts;
    this.#alarm = alarm;
    this.#time = time;
  }

  override async fetch(request: Request): Promise<Response> {
    const path = new URL(request.url).pathname;
    if (path === "/bench/alarms") {
      // Fires every alarm due by `now`, each at its own scheduled time, as the runtime would.
      const { now } = (await request.json()) as { now: number };
      while (this.#alarm.at !== null && this.#alarm.at <= now) {
        this.#time.now = this.#alarm.at;
        this.#alarm.at = null;
        this.counts.alarmRuns++;
        await this.alarm();
      }
      return Response.json(this.counts);
    }
    const { now } = (await request.clone().json()) as { now: number };
    this.#time.now = now;
    this.counts.requests++;
    return super.fetch(request);
  }
}

/** One row of the result: what a store cost over the whole simulation. */
export interface BenchRow {
  store: string;
  resolves: number;
  reads: number;
  writes: number;
  requests: number;
  alarmRuns: number;
  sessionsPerConversation: number;
  /** Ends the final sweep claimed (Durable Object only). */
  endsClaimed?: number;
}

const CONVERSATION_SECONDS = 600;
const SILENCE_SECONDS = 3_600;
const TIMEOUT_SECONDS = 120;
const START = Date.UTC(2025, 0, 7, 12, 0, 0);

interface Message {
  at: number;
  user: string;
}

/** One message every 5–20 s (uniform) for 10 minutes per conversation, starts spread over a minute. */
function conversations(seed: number, count: number): Message[] {
  const random = mulberry32(seed);
  const messages: Message[] = [];
  for (let conversation = 0; conversation < count; conversation++) {
    const start = START + random() * 60_000;
    for (let at = start; at < start + CONVERSATION_SECONDS * 1000; at += 5_000 + random() * 15_000) {
      messages.push({ at: Math.round(at), user: `user-${conversation}` });
    }
  }
  return messages.sort((a, b) => a.at - b.at);
}

async function runKV(env: Env, name: string, renewAfter: number, messages: Message[]): Promise<BenchRow> {
  const binding = countingKV(env.SESSIONS);
  const keyPrefix = `bench-${crypto.randomUUID()}:`;
  const ids = await replay(kvStore({ binding, keyPrefix, renewAfter }), messages);
  return {
    store: name,
    resolves: messages.length,
    reads: binding.reads,
    writes: binding.writes,
    requests: 0,
    alarmRuns: 0,
    sessionsPerConversation: ids,
  };
}

async function runDurableObject(env: Env, messages: Message[]): Promise<BenchRow> {
  const keyPrefix = `bench-${crypto.randomUUID()}:`;
  const store = durableObjectStore({ namespace: env.BENCH_OBJECTS, keyPrefix });
  const objectOf = async (user: string) =>
    env.BENCH_OBJECTS.get(env.BENCH_OBJECTS.idFromName(await sessionKey(keyPrefix, "bench", user)));
  const fireAlarms = async (user: string, now: number) => {
    const stub = await objectOf(user);
    const response = await stub.fetch("https://bench/bench/alarms", {
      method: "POST",
      body: JSON.stringify({ now }),
      headers: {},
    });
    return JSON.parse(await response.text()) as StorageCounts & { requests: number; alarmRuns: number };
  };
  const ids = await replay(store, messages, fireAlarms);
  // One sweep after the silence claims every end (the replay's manager does not sweep on its
  // own, so the counts compare equal work); then the alarms below collect what is left.
  const end = (messages.at(-1)?.at ?? START) + SILENCE_SECONDS * 1000;
  const claimed = await store.sweep({ now: end, retentionMs: 0 });
  const row: BenchRow = {
    store: "durable-object",
    resolves: messages.length,
    reads: 0,
    writes: 0,
    requests: 0,
    alarmRuns: 0,
    sessionsPerConversation: ids,
    endsClaimed: claimed.length,
  };
  const add = (counts: StorageCounts & { requests: number; alarmRuns: number }) => {
    row.reads += counts.reads;
    row.writes += counts.writes;
    row.requests += counts.requests;
    row.alarmRuns += counts.alarmRuns;
  };
  for (const user of new Set(messages.map((message) => message.user))) {
    add(await fireAlarms(user, end)); // the silence: every remaining alarm, up to the cleanup
  }
  // The expiry index's shards: their requests and storage count with the store's.
  for (let shard = 0; shard < EXPIRY_INDEX_SHARDS; shard++) {
    const stub = env.BENCH_OBJECTS.get(env.BENCH_OBJECTS.idFromName(`${keyPrefix}#expiry-index-${shard}`));
    const response = await stub.fetch("https://bench/bench/alarms", { method: "POST", body: '{"now":0}', headers: {} });
    add(JSON.parse(await response.text()) as StorageCounts & { requests: number; alarmRuns: number });
  }
  return row;
}

/** Sends every message through a manager on `store`; returns the mean number of session ids per conversation. */
async function replay(
  store: SessionStore,
  messages: Message[],
  beforeMessage?: (user: string, now: number) => Promise<unknown>,
): Promise<number> {
  let now = START;
  const sessions = new SessionManager({
    store,
    now: () => now,
    namespace: "bench",
    inactivityTimeout: TIMEOUT_SECONDS,
    cleanupInterval: 0,
  });
  const ids = new Map<string, Set<string>>();
  for (const message of messages) {
    now = message.at;
    await beforeMessage?.(message.user, now);
    const id = await sessions.getOrCreateSession(message.user);
    const seen = ids.get(message.user) ?? new Set();
    seen.add(id);
    ids.set(message.user, seen);
  }
  let total = 0;
  for (const seen of ids.values()) total += seen.size;
  return total / ids.size;
}

function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** The rows, in table order; the bench runs one per request, interleaved across rounds. */
export const STORES = [
  "kv, naive (renewAfter 0: writes every call)",
  "kv, renewAfter 10",
  "kv, renewAfter 30 (default)",
  "durable-object",
] as const;

export default {
  /** `/run?store=<index into STORES>&seed=<n>&conversations=<n>`: one store over one seeded simulation. */
  async fetch(request: Request, env: Env): Promise<Response> {
    const parameters = new URL(request.url).searchParams;
    const messages = conversations(Number(parameters.get("seed")), Number(parameters.get("conversations")));
    const store = STORES[Number(parameters.get("store"))];
    if (store === "durable-object") return Response.json(await runDurableObject(env, messages));
    if (store === undefined) return new Response("unknown store", { status: 400 });
    return Response.json(await runKV(env, store, [0, 10, 30][STORES.indexOf(store)] as number, messages));
  },
};
