// Core benchmarks: `pnpm bench` (or `pnpm --filter @threadline/session-core bench`).
// Every rate is also shown as a ratio to a baseline measured in the same run, so the table
// survives a noisy machine:
// - "async Map lookup": the floor of any async get-or-create API (an awaited Map.get).
// - "origin port": a line-by-line port of the origin Python SessionManager (dict of sessions,
//   datetime-formatted ids), the peer we replace.
// Imports the built package, not src: tsx compiles with keepNames, which wraps every closure
// the library creates per call and would make it look several times slower than it is.

import { printTable } from "@threadline/bench-kit";
import { memoryStore, SessionManager } from "@threadline/session-core";
import { createFakeClock, GUIDE_EPOCH } from "@threadline/session-core/fake-clock";
import { formatRate, gc, opsPerSecond } from "./measure.js";

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
  const baseline = await opsPerSecond((index) => asyncLookup(userIds[index % USERS] as string));

  const origin = new OriginPort();
  for (const user of userIds) await origin.getOrCreateSession(user);
  const originHits = await opsPerSecond((index) => origin.getOrCreateSession(userIds[index % USERS] as string));
  let originCreator = new OriginPort();
  const originCreates = await opsPerSecond((index) => {
    if (index % CREATIONS_PER_STORE === 0) originCreator = new OriginPort();
    return originCreator.getOrCreateSession(`new-${index}`);
  });

  const sessions = new SessionManager();
  for (const user of userIds) await sessions.getOrCreateSession(user);
  const hits = await opsPerSecond((index) => sessions.getOrCreateSession(userIds[index % USERS] as string));
  const resolveHits = await opsPerSecond((index) => sessions.resolve(userIds[index % USERS] as string));

  // Creation: each call makes a session for a user never seen before, into a store that is
  // replaced every CREATIONS_PER_STORE sessions so it does not grow without bound.
  let creator = new SessionManager();
  const creates = await opsPerSecond((index) => {
    if (index % CREATIONS_PER_STORE === 0) creator = new SessionManager();
    return creator.getOrCreateSession(`new-${index}`);
  });

  const ratio = (rate: number) => `${(rate / baseline).toFixed(2)}×`;
  console.log("\n@threadline/session-core — memory store, public async API, one call at a time\n");
  printTable(
    ["operation", "rate", "vs async Map lookup", "vs origin port"],
    [
      ["baseline: async Map lookup", formatRate(baseline), "1.00×", ""],
      ["origin port: hit", formatRate(originHits), ratio(originHits), "1.00×"],
      ["getOrCreateSession: hit", formatRate(hits), ratio(hits), `${(hits / originHits).toFixed(2)}×`],
      ["resolve: hit", formatRate(resolveHits), ratio(resolveHits), `${(resolveHits / originHits).toFixed(2)}×`],
      ["origin port: create", formatRate(originCreates), ratio(originCreates), "1.00×"],
      ["getOrCreateSession: create", formatRate(creates), ratio(creates), `${(creates / originCreates).toFixed(2)}×`],
    ],
  );

  await cleanupAndMemory();
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
  const sessions = new SessionManager({ store, now: clock.now });
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
  timings.sort((a, b) => a - b);

  console.log(`\nAt ${total.toLocaleString("en")} sessions (memory store)\n`);
  printTable(
    ["measure", "value"],
    [
      [
        `cleanupExpired: ${expiredPerCleanup.toLocaleString("en")} expired among ~${total.toLocaleString("en")} (median of ${rounds}, max)`,
        `${(timings[Math.floor(rounds / 2)] ?? 0).toFixed(2)} ms, ${(timings.at(-1) ?? 0).toFixed(2)} ms`,
      ],
      ["heap per session (user ids ~12 chars, session ids ~40 chars)", `${bytesPerSession.toFixed(0)} bytes`],
    ],
  );
}

await main();
