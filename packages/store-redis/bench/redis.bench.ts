// Redis store benchmark: `pnpm bench` at the root, or `pnpm turbo run bench --filter @threadline/store-redis`
// (both build first). Starts its own redis-server on a free loopback port (never touches another
// one) and measures, with the same client against the same server in one run, each workload
// beside its floor:
// - resolve: SessionManager.resolve hits on 10,000 users, against the client's plain GET (the
//   floor of one round trip) and a classic two-round-trip store (GET, then SET with a TTL; not
//   atomic), at concurrency 1 and 64;
// - list: a full listing of 100,000 sessions, page by page, against SCAN + pipelined HMGET of
//   the same records (the floor of any SCAN-based listing);
// - item reads: the server CPU (INFO commandstats) of a full getItems against a plain LRANGE of
//   the same list, and against the Lua script reads used before;
// - commands per resolve, from INFO commandstats;
// - lifecycle: the server CPU (INFO commandstats usec of EVALSHA) of a resolve hit and of a
//   creation, now without lifecycle options and with onSessionEnd + retention + maxTurns (and
//   maxDuration), against the resolve script of the release before the lifecycle;
// - cleanup: cleanupExpired with many live sessions and few expired, and its fixed cost on a cluster.
// Every timing is measured in BENCH_ROUNDS interleaved rounds (default 5) and reported as the
// median with min–max over rounds; ratios are taken within a round. BENCH_SECONDS (default 1)
// is the length of one resolve row in one round; BENCH_LIST_SESSIONS (default 100000) the size
// of the listing.
// Imports the built packages by name: tsx's keepNames would otherwise slow every closure.

import { loadavg } from "node:os";
import { interleaved, perRound, printTable, spread } from "@threadline/bench-kit";
import {
  type ResolvedSession,
  type ResolveRequest,
  SessionManager,
  type SessionRecord,
  type SessionStore,
} from "@threadline/session-core";
import { redisStore } from "@threadline/store-redis";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { startRedisCluster, startRedisServer } from "../src/testing/redis-server.js";
import { formatMs, formatRate, formatTimes, type Measurement, measure } from "./measure.js";
import { previousResolve } from "./previous-resolve.js";

const USERS = 10_000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 1);
const LIST_SESSIONS = Number(process.env.BENCH_LIST_SESSIONS ?? 100_000);
const ITEM_READS = 2_000;
const users = Array.from({ length: USERS }, (_, index) => `user-${index}`);

/** What the benchmark needs from a client, whichever library. */
interface BenchClient {
  name: string;
  raw: Redis | ReturnType<typeof createClient>;
  get(key: string): Promise<unknown>;
  set(key: string, value: string, ttlMs: number): Promise<unknown>;
  /** Any command, for the floors and INFO. */
  command(args: string[]): Promise<unknown>;
  /** Commands in one write; replies in order. */
  pipeline(commands: string[][]): Promise<unknown[]>;
  close(): Promise<void>;
}

interface CommandStat {
  calls: number;
  usec: number;
}

async function commandStats(client: BenchClient): Promise<Map<string, CommandStat>> {
  const info = String(await client.command(["INFO", "commandstats"]));
  const stats = new Map<string, CommandStat>();
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    stats.set(match[1] as string, { calls: Number(match[2]), usec: Number(match[3]) });
  }
  return stats;
}

// The classic way: read the record, decide in the app, write it back with a TTL. Two round
// trips per call and a race between them (two processes can both create a session).
function twoRoundTripStore(client: BenchClient): SessionStore {
  const key = (request: { namespace: string; userId: string }) => `naive:${request.namespace}:${request.userId}`;
  return {
    specificationVersion: "v1",
    name: "two-round-trip",
    capabilities: { atomic: false, exactRenewal: true, exactlyOnceEnds: false, history: false },
    async resolve(request: ResolveRequest): Promise<ResolvedSession> {
      const stored = await client.get(key(request));
      const previous = typeof stored === "string" ? (JSON.parse(stored) as SessionRecord) : undefined;
      const isNew = previous === undefined || request.forceNew || request.now >= previous.expiresAt;
      const { namespace, userId, now } = request;
      const record: SessionRecord =
        previous === undefined || isNew
          ? {
              namespace,
              userId,
              sessionId: request.proposeSessionId(),
              createdAt: now,
              lastActivityAt: now,
              expiresAt: 0,
              turns: 0,
            }
          : previous;
      record.lastActivityAt = now;
      record.expiresAt = now + request.timeoutMs;
      record.turns++;
      await client.set(key(request), JSON.stringify(record), request.timeoutMs);
      return { ...record, isNew };
    },
    touch: () => null,
    get: () => null,
    close: () => null,
  };
}

async function ioredisClient(url: string): Promise<BenchClient> {
  const raw = new Redis(url);
  raw.on("error", (error: Error) => console.error("ioredis:", error.message));
  await raw.ping();
  return {
    name: "ioredis",
    raw,
    get: (key) => raw.get(key),
    set: (key, value, ttlMs) => raw.set(key, value, "PX", ttlMs),
    command: ([name, ...args]) => raw.call(name as string, ...args),
    async pipeline(commands) {
      const replies =
        (await raw.pipeline(commands.map(([name, ...args]) => [String(name).toLowerCase(), ...args])).exec()) ?? [];
      return replies.map(([error, reply]) => {
        if (error) throw error;
        return reply;
      });
    },
    close: async () => {
      raw.disconnect();
    },
  };
}

async function nodeRedisClient(url: string): Promise<BenchClient> {
  const raw = createClient({ url });
  raw.on("error", (error: Error) => console.error("node-redis:", error.message)); // node-redis throws without a listener
  await raw.connect();
  return {
    name: "node-redis",
    raw,
    get: (key) => raw.get(key),
    set: (key, value, ttlMs) => raw.set(key, value, { PX: ttlMs }),
    command: (args) => raw.sendCommand(args),
    // node-redis writes the commands of one tick as one batch.
    pipeline: (commands) => Promise.all(commands.map((command) => raw.sendCommand(command))),
    close: () => raw.disconnect(),
  };
}

// ---- resolve ----------------------------------------------------------------------------

async function resolveRows(client: BenchClient): Promise<string[][]> {
  const redis = new SessionManager({ store: redisStore({ client: client.raw }), namespace: "bench" });
  const naive = new SessionManager({ store: twoRoundTripStore(client), namespace: "bench" });
  await client.set("bench:get", "x".repeat(60), 600_000);
  for (const user of users) {
    await redis.resolve(user);
    await naive.resolve(user);
  }
  const user = (index: number) => users[index % USERS] as string;
  const rows: string[][] = [];
  for (const concurrency of [1, 64]) {
    const options = { concurrency, seconds: SECONDS };
    const results = await interleaved(ROUNDS, {
      get: () => measure(() => client.get("bench:get"), options),
      peer: () => measure((index) => naive.resolve(user(index)), options),
      ours: () => measure((index) => redis.resolve(user(index)), options),
    });
    const getRates = results.get.map((result) => result.rate);
    const row = (name: string, rounds: Measurement[]) => [
      `${client.name}: ${name}`,
      String(concurrency),
      spread(
        rounds.map((result) => result.rate),
        formatRate,
      ),
      spread(
        rounds.map((result) => result.p50),
        formatMs,
      ),
      spread(
        rounds.map((result) => result.p99),
        formatMs,
      ),
      spread(
        perRound(
          rounds.map((result) => result.rate),
          getRates,
        ),
        formatTimes,
      ),
    ];
    rows.push(
      row("GET (floor)", results.get),
      row("two-round-trip store", results.peer),
      row("redisStore resolve", results.ours),
    );
  }
  return rows;
}

/** Server-side commands per resolve, from INFO commandstats around a known number of resolves. */
async function commandsPerResolve(client: BenchClient): Promise<string[][]> {
  const manager = new SessionManager({ store: redisStore({ client: client.raw }), namespace: "bench-stats" });
  await manager.resolve("warm-up");
  const calls = 10_000;
  const run = async (create: boolean) => {
    const before = await commandStats(client);
    for (let index = 0; index < calls; index++) await manager.resolve(create ? `new-${index}` : "warm-up");
    const after = await commandStats(client);
    const delta = new Map<string, number>();
    for (const [command, stat] of after) {
      const difference = stat.calls - (before.get(command)?.calls ?? 0);
      if (difference > 0 && command !== "info") delta.set(command, difference / calls);
    }
    return delta;
  };
  const describe = (delta: Map<string, number>) =>
    [...delta]
      .filter(([command]) => command !== "evalsha")
      .map(([command, perCall]) => `${command} ${perCall.toFixed(2)}`)
      .join(", ");
  const hit = await run(false);
  const create = await run(true);
  return [
    ["resolve, hit", (hit.get("evalsha") ?? 0).toFixed(2), describe(hit)],
    ["resolve, new session", (create.get("evalsha") ?? 0).toFixed(2), describe(create)],
  ];
}

// ---- lifecycle --------------------------------------------------------------------------

const LIFECYCLE_USERS = 1_000;
const LIFECYCLE_CALLS = 5_000;

/** Server µs per EVALSHA over `calls` calls of `call(index)`, 16 at a time. */
async function evalshaMicroseconds(client: BenchClient, call: (index: number) => Promise<unknown>): Promise<number> {
  await client.command(["CONFIG", "RESETSTAT"]);
  for (let done = 0; done < LIFECYCLE_CALLS; done += 16) {
    await Promise.all(Array.from({ length: 16 }, (_, offset) => call(done + offset)));
  }
  const stat = (await commandStats(client)).get("evalsha");
  return stat === undefined ? Number.NaN : stat.usec / stat.calls;
}

async function lifecycleRows(client: BenchClient): Promise<string[][]> {
  const sha = String(await client.command(["SCRIPT", "LOAD", previousResolve]));
  const user = (index: number) => `user-${index % LIFECYCLE_USERS}`;
  // The previous release's script on keys of its own, called as its store did (server clock).
  const previousCall = (index: number, forceNew: boolean) => {
    const tag = `{6:before:${user(index)}}`;
    const now = Date.now();
    return client.command([
      "EVALSHA",
      sha,
      "2",
      `threadline:s:${tag}`,
      `threadline:i:${tag}`,
      "",
      "120000",
      forceNew ? "1" : "0",
      `before-${user(index)}-${now}`,
      String(120_000 + 3_600_000),
      String(120_000 + 60_000),
      String(now),
    ]);
  };
  const plain = new SessionManager({
    store: redisStore({ client: client.raw }),
    namespace: "plain",
    cleanupInterval: 0,
  });
  const lifecycle = new SessionManager({
    store: redisStore({ client: client.raw }),
    namespace: "lifecycle",
    cleanupInterval: 0,
    retention: 3_600,
    maxTurns: 1_000_000, // never reached here: every hit is a renewal, as most are
    onSessionEnd: () => {},
  });
  const capped = new SessionManager({
    store: redisStore({ client: client.raw }),
    namespace: "capped",
    cleanupInterval: 0,
    retention: 3_600,
    maxTurns: 1_000_000,
    maxDuration: 86_400,
    onSessionEnd: () => {},
  });
  for (let index = 0; index < LIFECYCLE_USERS; index++) {
    await previousCall(index, false);
    await plain.resolve(user(index));
    await lifecycle.resolve(user(index));
    await capped.resolve(user(index));
  }
  const results = await interleaved(ROUNDS, {
    previousHit: () => evalshaMicroseconds(client, (index) => previousCall(index, false)),
    plainHit: () => evalshaMicroseconds(client, (index) => plain.resolve(user(index))),
    lifecycleHit: () => evalshaMicroseconds(client, (index) => lifecycle.resolve(user(index))),
    cappedHit: () => evalshaMicroseconds(client, (index) => capped.resolve(user(index))),
    previousNew: () => evalshaMicroseconds(client, (index) => previousCall(index, true)),
    plainNew: () => evalshaMicroseconds(client, (index) => plain.resolve(user(index), undefined, { forceNew: true })),
    lifecycleNew: () =>
      evalshaMicroseconds(client, (index) => lifecycle.resolve(user(index), undefined, { forceNew: true })),
  });
  const micro = (value: number) => `${value.toFixed(1)} µs`;
  const row = (name: string, values: number[], base: number[]) => [
    `${client.name}: ${name}`,
    spread(values, micro),
    spread(perRound(values, base), formatTimes),
  ];
  return [
    row("hit, previous release's script", results.previousHit, results.previousHit),
    row("hit, no lifecycle option", results.plainHit, results.previousHit),
    row("hit, onSessionEnd + retention + maxTurns", results.lifecycleHit, results.previousHit),
    row("hit, … + maxDuration", results.cappedHit, results.previousHit),
    row("forceNew, previous release's script", results.previousNew, results.previousNew),
    row("forceNew, no lifecycle option (claims the end)", results.plainNew, results.previousNew),
    row("forceNew, onSessionEnd + retention + maxTurns (+ history)", results.lifecycleNew, results.previousNew),
  ];
}

// ---- cleanup ----------------------------------------------------------------------------

const CLEANUP_LIVE = Number(process.env.BENCH_CLEANUP_LIVE ?? 100_000);

/** One cleanupExpired's wall time, and the server µs and index entries it read (single node). */
async function cleanupRows(client: BenchClient): Promise<string[][]> {
  let now = Date.now();
  const options = { cleanupInterval: 0, now: () => now };
  const store = redisStore({ client: client.raw, clock: "app", keyPrefix: "bench-cleanup:" });
  const live = new SessionManager({ ...options, store, namespace: "live", inactivityTimeout: 86_400 });
  const short = new SessionManager({ ...options, store, namespace: "short", inactivityTimeout: 10 });
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < CLEANUP_LIVE) await live.resolve(`user-${next++}`);
    }),
  );
  const sweep = async (expired: number) => {
    for (let index = 0; index < expired; index++) await short.resolve(`user-${index}`);
    now += 10_000;
    await client.command(["CONFIG", "RESETSTAT"]);
    const started = performance.now();
    const ends = await short.cleanupExpired();
    const ms = performance.now() - started;
    if (ends !== expired) throw new Error(`cleanup found ${ends} of ${expired}`);
    const stats = await commandStats(client);
    const usec = [...stats].filter(([name]) => name !== "info").reduce((total, [, stat]) => total + stat.usec, 0);
    return { ms, usec, hmget: stats.get("hmget")?.calls ?? 0 };
  };
  const results = await interleaved(ROUNDS, { none: () => sweep(0), some: () => sweep(1_000) });
  const micro = (value: number) => (value >= 1000 ? `${(value / 1000).toFixed(2)} ms` : `${value.toFixed(0)} µs`);
  const row = (name: string, rounds: Array<{ ms: number; usec: number; hmget: number }>) => [
    `${client.name}: ${name}`,
    spread(
      rounds.map((result) => result.ms),
      formatMs,
    ),
    spread(
      rounds.map((result) => result.usec),
      micro,
    ),
    String(rounds[0]?.hmget ?? 0),
  ];
  return [
    row(`${CLEANUP_LIVE.toLocaleString("en")} live, 0 expired`, results.none),
    row(`${CLEANUP_LIVE.toLocaleString("en")} live, 1,000 expired`, results.some),
  ];
}

/** The fixed cost of a cleanup on a 3-master cluster: one index read per slot. */
async function clusterCleanupRows(): Promise<string[][]> {
  const cluster = await startRedisCluster(3);
  const nodes = cluster.nodes.map((node) => ({ host: "127.0.0.1", port: node.port }));
  const { Cluster } = await import("ioredis");
  const raw = new Cluster(nodes);
  raw.on("error", (error: Error) => console.error("ioredis cluster:", error.message));
  const masters = await Promise.all(cluster.nodes.map((node) => ioredisClient(node.url)));
  try {
    let now = Date.now();
    const manager = new SessionManager({
      store: redisStore({ client: raw, clock: "app" }),
      namespace: "cluster",
      inactivityTimeout: 10,
      cleanupInterval: 0,
      now: () => now,
    });
    const sweep = async (expired: number) => {
      for (let index = 0; index < expired; index++) await manager.resolve(`user-${index}`);
      now += 10_000;
      await Promise.all(masters.map((master) => master.command(["CONFIG", "RESETSTAT"])));
      const started = performance.now();
      const ends = await manager.cleanupExpired();
      const ms = performance.now() - started;
      if (ends !== expired) throw new Error(`cleanup found ${ends} of ${expired}`);
      let usec = 0;
      for (const master of masters) {
        for (const [name, stat] of await commandStats(master)) if (name !== "info") usec += stat.usec;
      }
      return { ms, usec };
    };
    const results = await interleaved(ROUNDS, { none: () => sweep(0), some: () => sweep(1_000) });
    const row = (name: string, rounds: Array<{ ms: number; usec: number }>) => [
      `ioredis cluster (3 masters): ${name}`,
      spread(
        rounds.map((result) => result.ms),
        formatMs,
      ),
      spread(
        rounds.map((result) => result.usec / 1000),
        (value) => `${value.toFixed(2)} ms`,
      ),
      "",
    ];
    return [row("0 expired", results.none), row("1,000 expired", results.some)];
  } finally {
    raw.disconnect();
    await Promise.all(masters.map((master) => master.close()));
    await cluster.stop();
  }
}

// ---- list -------------------------------------------------------------------------------

async function listRows(client: BenchClient): Promise<string[][]> {
  const namespace = `bench-list-${client.name}`;
  const store = redisStore({ client: client.raw });
  // An hour's timeout: every session stays live for the whole benchmark.
  const manager = new SessionManager({ store, namespace, inactivityTimeout: 3_600 });
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < LIST_SESSIONS) await manager.resolve(`user-${next++}`);
    }),
  );
  const pattern = `threadline:s:{${namespace.length}:${namespace}:*}`;

  // The floor: SCAN batches of 100 and one pipeline of HMGETs of the same fields per batch.
  const floor = async () => {
    const started = performance.now();
    let cursor = "0";
    let records = 0;
    do {
      const [nextCursor, keys] = (await client.command(["SCAN", cursor, "MATCH", pattern, "COUNT", "100"])) as [
        string,
        string[],
      ];
      cursor = String(nextCursor);
      const replies = await client.pipeline(keys.map((key) => ["HMGET", key, "id", "created", "last", "timeout"]));
      records += replies.length;
    } while (cursor !== "0");
    return { ms: performance.now() - started, count: records, pages: 0 };
  };
  const ours = async () => {
    const started = performance.now();
    let cursor: string | undefined;
    let sessions = 0;
    let pages = 0;
    do {
      const page = await store.list({ now: Date.now(), namespace, limit: 100, ...(cursor ? { cursor } : {}) });
      sessions += page.sessions.length;
      cursor = page.cursor;
      pages++;
    } while (cursor !== undefined);
    return { ms: performance.now() - started, count: sessions, pages };
  };
  const results = await interleaved(ROUNDS, { floor, ours });
  for (const result of [...results.floor, ...results.ours]) {
    if (result.count < LIST_SESSIONS) throw new Error(`a listing saw ${result.count} of ${LIST_SESSIONS} sessions`);
  }
  const floorMs = results.floor.map((result) => result.ms);
  const oursMs = results.ours.map((result) => result.ms);
  const pages = results.ours[0]?.pages ?? 0;
  return [
    [`${client.name}: SCAN + pipelined HMGET (floor)`, spread(floorMs, formatMs), "1.00×"],
    [
      `${client.name}: store.list, ${pages} pages of ≤ 100`,
      spread(oursMs, formatMs),
      spread(perRound(oursMs, floorMs), formatTimes),
    ],
  ];
}

// ---- item reads ---------------------------------------------------------------------------

// The item read this store used before: one script that checks liveness and returns LRANGE,
// copying the list into Lua and back. Kept here to show what the change is worth.
const scriptRead = `
local record = redis.call('HMGET', KEYS[1], 'id', 'last', 'timeout')
local time = redis.call('TIME')
local nowMs = tonumber(time[1] .. string.sub(string.rep('0', 6 - #time[2]) .. time[2], 1, 3))
if record[1] ~= ARGV[1] or nowMs >= tonumber(record[2]) + tonumber(record[3]) then return {} end
return redis.call('LRANGE', KEYS[2], 0, -1)
`;

/** Server µs per call of the top-level commands (a MULTI's EXEC and a script's EVAL include what ran inside). */
async function serverMicroseconds(client: BenchClient, commands: string[], run: () => Promise<unknown>) {
  await client.command(["CONFIG", "RESETSTAT"]);
  await run();
  const stats = await commandStats(client);
  const usec = commands.reduce((total, command) => total + (stats.get(command)?.usec ?? 0), 0);
  return usec / ITEM_READS;
}

async function itemReadRows(client: BenchClient): Promise<string[][]> {
  const rows: string[][] = [];
  for (const size of [10, 100, 1_000]) {
    const namespace = `bench-items-${client.name}-${size}`;
    const store = redisStore({ client: client.raw });
    // An hour's timeout: the session stays live for the whole benchmark, so every read is a full one.
    const manager = new SessionManager({ store, namespace, inactivityTimeout: 3_600 });
    const session = await manager.resolve("user");
    const message = { role: "assistant", content: "A typical answer of one or two sentences, about a hundred bytes." };
    await manager.addItems(
      session,
      Array.from({ length: size }, () => message),
    );
    const itemsKey = `threadline:i:{${namespace.length}:${namespace}:user}`;
    const sessionKey = `threadline:s:{${namespace.length}:${namespace}:user}`;
    const repeat = async (call: () => Promise<unknown>) => {
      for (let done = 0; done < ITEM_READS; done += 16) await Promise.all(Array.from({ length: 16 }, call));
    };
    const results = await interleaved(ROUNDS, {
      floor: () =>
        serverMicroseconds(client, ["lrange"], () => repeat(() => client.command(["LRANGE", itemsKey, "0", "-1"]))),
      ours: () => serverMicroseconds(client, ["multi", "exec"], () => repeat(() => manager.getItems(session))),
      script: () =>
        serverMicroseconds(client, ["eval"], () =>
          repeat(() => client.command(["EVAL", scriptRead, "2", sessionKey, itemsKey, session.sessionId])),
        ),
    });
    const micro = (value: number) => `${value.toFixed(1)} µs`;
    rows.push(
      [`${client.name}: LRANGE 0 -1 (floor)`, String(size), spread(results.floor, micro), "1.00×"],
      [
        `${client.name}: getItems (MULTI: TIME, HMGET, LRANGE)`,
        String(size),
        spread(results.ours, micro),
        spread(perRound(results.ours, results.floor), formatTimes),
      ],
      [
        `${client.name}: Lua script read (before)`,
        String(size),
        spread(results.script, micro),
        spread(perRound(results.script, results.floor), formatTimes),
      ],
    );
  }
  return rows;
}

async function main(): Promise<void> {
  const server = await startRedisServer();
  try {
    const ioredis = await ioredisClient(server.url);
    const nodeRedis = await nodeRedisClient(server.url);
    // BENCH_ONLY=resolve,list,items (any of them) reruns some tables.
    const only = process.env.BENCH_ONLY?.split(",");
    const want = (name: string) => only === undefined || only.includes(name);
    const header = `local redis-server, ${ROUNDS} interleaved rounds, median (min–max) over rounds`;
    // The machine's load says how much the spreads owe to other work sharing its cores.
    const load = () =>
      loadavg()
        .map((value) => value.toFixed(1))
        .join(", ");
    console.log(`load average at start: ${load()}`);

    if (want("resolve")) {
      const rows = [...(await resolveRows(ioredis)), ...(await resolveRows(nodeRedis))];
      console.log(
        `\nSessionManager.resolve hits on ${USERS.toLocaleString("en")} users, ${SECONDS} s per row per round; ${header}\n`,
      );
      printTable(["workload", "concurrency", "rate", "p50", "p99", "vs GET"], rows);
      console.log("\nCommands on the server per resolve (INFO commandstats)\n");
      printTable(
        ["call", "EVALSHA (round trips)", "commands run inside the script"],
        await commandsPerResolve(ioredis),
      );
    }
    if (want("lifecycle")) {
      const rows = [...(await lifecycleRows(ioredis)), ...(await lifecycleRows(nodeRedis))];
      console.log(
        `\nServer CPU per resolve (INFO commandstats usec of EVALSHA, ${LIFECYCLE_CALLS.toLocaleString("en")} calls per row per round); ${header}\n`,
      );
      printTable(["workload", "server CPU per call", "vs previous release"], rows);
    }
    if (want("cleanup")) {
      const rows = [...(await cleanupRows(ioredis)), ...(await clusterCleanupRows())];
      console.log(`\nOne cleanupExpired (wall time, and the server CPU it cost); ${header}\n`);
      printTable(["workload", "wall time", "server CPU", "sessions read (HMGET)"], rows);
    }
    if (want("list")) {
      const rows = [...(await listRows(ioredis)), ...(await listRows(nodeRedis))];
      console.log(`\nListing ${LIST_SESSIONS.toLocaleString("en")} live sessions; ${header}\n`);
      printTable(["workload", "full listing", "vs floor"], rows);
    }
    if (want("items")) {
      const rows = [...(await itemReadRows(ioredis)), ...(await itemReadRows(nodeRedis))];
      console.log(
        `\nServer CPU of a full item read (INFO commandstats usec per call, ${ITEM_READS.toLocaleString("en")} reads per round); ${header}\n`,
      );
      printTable(["workload", "items", "server CPU per read", "vs LRANGE"], rows);
    }
    console.log(`\nload average at end: ${load()}`);
    await ioredis.close();
    await nodeRedis.close();
  } finally {
    await server.stop();
  }
}

await main();
