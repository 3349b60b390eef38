// Core benchmarks: `pnpm bench` (or `pnpm --filter @threadline/session-core bench`).
// Every rate is also shown as a ratio to a baseline measured in the same run, so the table
// survives a noisy machine:
// - "async Map lookup": the floor of any async get-or-create API (an awaited Map.get).
// - "origin port": a line-by-line port of the origin Python SessionManager (dict of sessions,
//   datetime-formatted ids), the peer we replace.
// Imports the built package, not src: tsx compiles with keepNames, which wraps every closure
// the library creates per call and would make it look several times slower than it is.

import { fixed, printTable, spread } from "@threadline/bench-kit";
import { memoryStore, SessionManager } from "@threadline/session-core";
import { createFakeClock, GUIDE_EPOCH } from "@threadline/session-core/fake-clock";
import { formatRates, gc, measureInterleaved, medianRatio, type RowRates } from "./measure.js";

const USERS = 10_000;
const CREATIONS_PER_STORE = 100_000;
const userIds = Array.from({ length: USERS }, (_, index) => `user-${index}`);

// The origin's SessionManager, ported as written: one dict, a datetime string per new id.
class OriginPort {
  readonly #sessions = new Map<string, { sessionId: string; lastActivity: number; createdAt: number }>();
  constructor(private readonly timeoutSeconds = 120) {}
  async getOrCreateSession(userId: string, namespace = "default", forceNew = false): Promise<string> {
    const now = Date.now();
    const existing = this.#sessions.get(userId);
    if (existing && !forceNew && (now - existing.lastActivity) / 1000 < this.timeoutSeconds) {
      existing.lastActivity = now;
      return existing.sessionId;
    }
    const iso = new Date(now).toISOString();
    const stamp = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}-${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`;
    const sessionId = `${namespace}-${userId}-${stamp}`;
    this.#sessions.set(userId, { sessionId, lastActivity: now, createdAt: now });
    return sessionId;
  }
}

async function main(): Promise<void> {
  const map = new Map(userIds.map((user) => [user, user]));
  const asyncLookup = async (user: string) => map.get(user);

  const origin = new OriginPort();
  for (const user of userIds) await origin.getOrCreateSession(user);
  let originCreator = new OriginPort();

  // The default manager: background cleanup on (every 60 s of its clock), as users run it.
  const sessions = new SessionManager();
  for (const user of userIds) await sessions.getOrCreateSession(user);
  // Creation: each call makes a session for a user never seen before, into a store that is
  // replaced every CREATIONS_PER_STORE sessions so it does not grow without bound.
  let creator = new SessionManager();
  // The same with the lifecycle on: end events, history and a turn limit (high enough that hits stay hits).
  const lifecycle = { onSessionEnd: () => {}, retention: 3600, maxTurns: 1_000_000_000 };
  const lifecycleSessions = new SessionManager(lifecycle);
  for (const user of userIds) await lifecycleSessions.getOrCreateSession(user);
  let lifecycleCreator = new SessionManager(lifecycle);

  const [baseline, originHits, hits, resolveHits, originCreates, creates, lifecycleHits, lifecycleCreates] =
    await measureInterleaved([
      { name: "baseline: async Map lookup", operation: (index) => asyncLookup(userIds[index % USERS] as string) },
      { name: "origin port: hit", operation: (index) => origin.getOrCreateSession(userIds[index % USERS] as string) },
      {
        name: "getOrCreateSession: hit",
        operation: (index) => sessions.getOrCreateSession(userIds[index % USERS] as string),
      },
      { name: "resolve: hit", operation: (index) => sessions.resolve(userIds[index % USERS] as string) },
      {
        name: "origin port: create",
        operation: (index) => {
          if (index % CREATIONS_PER_STORE === 0) originCreator = new OriginPort();
          return originCreator.getOrCreateSession(`new-${index}`);
        },
      },
      {
        name: "getOrCreateSession: create",
        operation: (index) => {
          if (index % CREATIONS_PER_STORE === 0) creator = new SessionManager();
          return creator.getOrCreateSession(`new-${index}`);
        },
      },
      {
        name: "resolve: hit, lifecycle on",
        operation: (index) => lifecycleSessions.resolve(userIds[index % USERS] as string),
      },
      {
        name: "getOrCreateSession: create, lifecycle on",
        operation: (index) => {
          if (index % CREATIONS_PER_STORE === 0) lifecycleCreator = new SessionManager(lifecycle);
          return lifecycleCreator.getOrCreateSession(`new-${index}`);
        },
      },
    ]);

  console.log("\n@threadline/session-core — memory store, public async API, one call at a time");
  console.log("median (min–max) over interleaved rounds; ratios are medians of same-round ratios\n");
  const base = (baseline as RowRates).rates;
  const originHitRates = (originHits as RowRates).rates;
  const originCreateRates = (originCreates as RowRates).rates;
  printTable(
    ["operation", "rate", "vs async Map lookup", "vs origin port"],
    [
      [baseline as RowRates, ""],
      [originHits as RowRates, "1.00×"],
      [hits as RowRates, medianRatio((hits as RowRates).rates, originHitRates)],
      [resolveHits as RowRates, medianRatio((resolveHits as RowRates).rates, originHitRates)],
      [originCreates as RowRates, "1.00×"],
      [creates as RowRates, medianRatio((creates as RowRates).rates, originCreateRates)],
    ].map(([row, versusOrigin]) => {
      const { name, rates } = row as RowRates;
      return [name, formatRates(rates), medianRatio(rates, base), versusOrigin as string];
    }),
  );

  console.log("\nLifecycle on (onSessionEnd + retention + maxTurns) against the same call with none set\n");
  printTable(
    ["operation", "cost vs lifecycle off"],
    [
      ["resolve: hit", medianRatio((resolveHits as RowRates).rates, (lifecycleHits as RowRates).rates)],
      ["getOrCreateSession: create", medianRatio((creates as RowRates).rates, (lifecycleCreates as RowRates).rates)],
    ],
  );

  await cleanupAndMemory();
  await fullListing();
}

/** A full listing, page by page, against the floor of walking the same number of records. */
async function fullListing(): Promise<void> {
  const total = 150_000;
  const store = memoryStore();
  const clock = createFakeClock();
  const sessions = new SessionManager({ store, now: clock.now, cleanupInterval: 0 });
  for (let index = 0; index < total; index++) await sessions.getOrCreateSession(`user-${index}`);
  const records = Array.from({ length: total }, (_, index) => ({ userId: `user-${index}`, sessionId: `s-${index}` }));
  const listTimes: number[] = [];
  const floorTimes: number[] = [];
  for (let round = 0; round < 5; round++) {
    let started = performance.now();
    let cursor: string | undefined;
    let count = 0;
    do {
      const page = await store.list({ now: clock.now(), limit: 100, ...(cursor === undefined ? {} : { cursor }) });
      count += page.sessions.length;
      cursor = page.cursor;
    } while (cursor !== undefined);
    listTimes.push(performance.now() - started);
    if (count !== total) throw new Error(`listed ${count}, expected ${total}`);
    started = performance.now();
    // The floor: copy every record into pages of 100, one awaited page at a time.
    for (let offset = 0; offset < total; offset += 100) {
      await Promise.resolve(records.slice(offset, offset + 100).map((record) => ({ ...record })));
    }
    floorTimes.push(performance.now() - started);
  }
  const ms = fixed(1, " ms");
  console.log(`\nFull listing of ${total.toLocaleString("en")} live sessions, pages of 100 (median of 5, min–max)\n`);
  printTable(
    ["measure", "time"],
    [
      ["memory store list(), every page", spread(listTimes, ms)],
      ["floor: copy 150,000 records into awaited pages", spread(floorTimes, ms)],
    ],
  );
}

/**
 * Runs cleanup on small stores until the JIT has optimized it, as it is in a process that has
 * been cleaning up for a while. (The sweep code is shared by every memory store.)
 */
async function warmUpCleanup(): Promise<void> {
  const clock = createFakeClock();
  for (let round = 0; round < 30; round++) {
    const sessions = new SessionManager({ now: clock.now });
    for (let index = 0; index < 2_000; index++) await sessions.getOrCreateSession(`warm-${index}`);
    clock.advance(121);
    await sessions.cleanupExpired();
  }
}

async function cleanupAndMemory(): Promise<void> {
  await warmUpCleanup();
  const total = 1_000_000;
  const expiredPerCleanup = total / 100;
  const rounds = 5;
  const clock = createFakeClock();
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const store = memoryStore();
  const sessions = new SessionManager({ store, now: clock.now, cleanupInterval: 0 });
  // `rounds` batches of 1 % created a second apart, then the rest a minute later; each
  // cleanup below then finds exactly one batch expired among about a million sessions.
  let user = 0;
  for (let round = 0; round < rounds; round++) {
    for (let index = 0; index < expiredPerCleanup; index++) await sessions.getOrCreateSession(`user-${user++}`);
    clock.advance(1);
  }
  clock.advance(60);
  while (user < total) await sessions.getOrCreateSession(`user-${user++}`);
  gc();
  const bytesPerSession = (process.memoryUsage().heapUsed - heapBefore) / total;

  clock.set(GUIDE_EPOCH + 119_500); // batch k expires at 120 s + k
  const timings: number[] = [];
  for (let round = 0; round < rounds; round++) {
    clock.advance(1);
    // No gc() here: a forced full collection leaves sweeping work behind that would land in
    // the measurement, which no real cleanup sees.
    const started = performance.now();
    const removed = await sessions.cleanupExpired();
    timings.push(performance.now() - started);
    if (removed !== expiredPerCleanup) throw new Error(`cleanup removed ${removed}, expected ${expiredPerCleanup}`);
  }

  const userListing = await listOneUser(sessions, total);

  console.log(`\nAt ${total.toLocaleString("en")} sessions (memory store)\n`);
  printTable(
    ["measure", "value"],
    [
      [
        `cleanupExpired: ${expiredPerCleanup.toLocaleString("en")} expired among ~${total.toLocaleString("en")} (median of ${rounds}, min–max)`,
        spread(timings, fixed(2, " ms")),
      ],
      ["heap per session (user ids ~12 chars, session ids ~40 chars)", `${bytesPerSession.toFixed(0)} bytes`],
      [
        `listSessions({ userId }) of one user, ${total.toLocaleString("en")} sessions in the store vs 1,000 (median of ${userListing.rounds}, min–max)`,
        `${userListing.large} vs ${userListing.small}`,
      ],
    ],
  );
}

/** One user's listing costs the same whatever else the store holds: the same call over a small and a large store. */
async function listOneUser(large: SessionManager, total: number) {
  const small = new SessionManager({ cleanupInterval: 0 });
  for (let index = 0; index < 1_000; index++) await small.getOrCreateSession(`user-${index}`);
  const rounds = 9;
  const calls = 10_000;
  const times = { large: [] as number[], small: [] as number[] };
  for (let round = 0; round < rounds; round++) {
    // Live users of each store: the large one's first batches were swept by the cleanups above.
    for (const [name, sessions, firstUser] of [
      ["large", large, total - 1_000],
      ["small", small, 0],
    ] as const) {
      const started = performance.now();
      for (let call = 0; call < calls; call++) {
        const page = await sessions.listSessions({ userId: `user-${firstUser + (call % 1_000)}`, status: "all" });
        if (page.sessions.length !== 1) throw new Error("expected the user's one live session");
      }
      times[name].push(((performance.now() - started) * 1000) / calls);
    }
  }
  const us = fixed(2, " µs");
  return { rounds, large: spread(times.large, us), small: spread(times.small, us) };
}

await main();
