// What the conformance suite cannot see: one command per call on the server, surviving a
// flushed script cache, keys and TTLs, the server clock, clusters, listing and bad options.
import { SessionError, SessionManager } from "@threadline/session-core";
import { createFakeClock, uniqueNamespace } from "@threadline/session-core/testing";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { redisStore } from "../src/index.js";
import { pairKeys } from "../src/keys.js";
import { scripts } from "../src/scripts.js";
import { type RedisServer, startRedisServer } from "../src/testing/redis-server.js";
import { connectCluster, connectSingle, flavors, type TestClient } from "./clients.js";

// A server of this file's own: counting commands and flushing scripts must not see, or
// disturb, the other test files.
let server: RedisServer;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(() => server.stop());

async function commandCalls(connection: TestClient): Promise<Map<string, number>> {
  const info = String(await connection.command(["INFO", "commandstats"]));
  const calls = new Map<string, number>();
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls.set(match[1] as string, Number(match[2]));
  return calls;
}

function codeOf(error: unknown): string | undefined {
  return SessionError.isInstance(error) ? error.code : undefined;
}

describe.each(["ioredis@5", "redis@5"] as const)("with %s on a server of its own", (flavor) => {
  let connection: TestClient;
  beforeAll(async () => {
    connection = await connectSingle(flavor, server.url);
  });
  afterAll(() => connection.close());

  it("sends exactly one EVALSHA per resolve, touch and close, and nothing else", async () => {
    const sessions = new SessionManager({
      store: redisStore({ client: connection.client }),
      namespace: uniqueNamespace(),
    });
    await sessions.resolve("warm-up");
    await sessions.updateActivity("warm-up");
    await sessions.closeSession("warm-up");
    await connection.command(["CONFIG", "RESETSTAT"]);
    for (let index = 0; index < 20; index++) await sessions.resolve(`user-${index % 5}`);
    for (let index = 0; index < 5; index++) await sessions.updateActivity(`user-${index}`);
    for (let index = 0; index < 5; index++) await sessions.closeSession(`user-${index}`);
    const calls = await commandCalls(connection);
    expect(calls.get("evalsha")).toBe(30);
    expect(calls.has("eval")).toBe(false);
    // Everything else on the server ran inside those scripts (plus this INFO).
    const topLevel = [...calls.keys()].filter((command) => ["get", "set", "hgetall", "exists"].includes(command));
    expect(topLevel).toEqual([]);
  });

  it("survives SCRIPT FLUSH: NOSCRIPT falls back to EVAL once, then EVALSHA works again", async () => {
    const sessions = new SessionManager({
      store: redisStore({ client: connection.client }),
      namespace: uniqueNamespace(),
    });
    const first = await sessions.getOrCreateSession("user");
    await connection.command(["SCRIPT", "FLUSH"]);
    await connection.command(["CONFIG", "RESETSTAT"]);
    expect(await sessions.getOrCreateSession("user")).toBe(first);
    expect(await sessions.getOrCreateSession("user")).toBe(first);
    const calls = await commandCalls(connection);
    expect(calls.get("eval")).toBe(1);
    expect(calls.get("evalsha")).toBe(2); // the failed one and the last one
  });

  it("keeps a closed session's record as a tombstone with a TTL, and expires items with the session", async () => {
    const namespace = uniqueNamespace();
    const clock = createFakeClock();
    const store = redisStore({
      client: connection.client,
      clock: "app",
      expiredRetentionMs: 5_000,
      idHistoryMs: 10_000,
    });
    const sessions = new SessionManager({ store, namespace, inactivityTimeout: 30, now: clock.now });
    const keys = pairKeys("threadline:", namespace, "user");
    const session = await sessions.resolve("user");
    // The record keeps the id history for idHistoryMs; the items only for expiredRetentionMs; both
    // a renewal period (60 s) longer, since a renewal slides them once per period.
    const ttl = Number(await connection.command(["PTTL", keys.session]));
    expect(ttl).toBeGreaterThan(95_000);
    expect(ttl).toBeLessThanOrEqual(100_000);
    await sessions.addItems(session, ["hello"]);
    const itemsTtl = Number(await connection.command(["PTTL", keys.items]));
    expect(itemsTtl).toBeGreaterThan(90_000);
    expect(itemsTtl).toBeLessThanOrEqual(95_000);
    expect(Math.abs(Number(await connection.command(["PTTL", keys.operations])) - itemsTtl)).toBeLessThan(100);
    // The first renewal of the next period (a whole minute) slides them again.
    await connection.command(["PEXPIRE", keys.items, "1000"]);
    await connection.command(["PEXPIRE", keys.operations, "1000"]);
    await connection.command(["PEXPIRE", keys.session, "1000"]);
    const minute = Math.floor(clock.now() / 60_000);
    while (Math.floor(clock.now() / 60_000) === minute) {
      clock.advance(20);
      await sessions.resolve("user");
    }
    expect(Number(await connection.command(["PTTL", keys.items]))).toBeGreaterThan(90_000);
    expect(Number(await connection.command(["PTTL", keys.operations]))).toBeGreaterThan(90_000);
    expect(Number(await connection.command(["PTTL", keys.session]))).toBeGreaterThan(95_000);

    expect(await sessions.closeSession("user")).toBe(true);
    expect(Number(await connection.command(["EXISTS", keys.session]))).toBe(1);
    expect(Number(await connection.command(["EXISTS", keys.items]))).toBe(0);
    expect(Number(await connection.command(["PTTL", keys.session]))).toBeGreaterThan(0);
    const next = await sessions.resolve("user");
    expect(next.sessionId).not.toBe(session.sessionId);
  });

  it("never reuses an older session's id when a proposal stamped earlier arrives late", async () => {
    const store = redisStore({ client: connection.client, clock: "app" });
    const namespace = uniqueNamespace();
    const noon = 1_736_251_200_000;
    const request = (candidate: string, now: number, forceNew: boolean) => ({
      namespace,
      userId: "user",
      now,
      timeoutMs: 120_000,
      forceNew,
      retentionMs: 0,
      proposeSessionId: () => candidate,
    });
    // Process A stamps 12:00:00, process B 12:00:01, then A's second call (stamped 12:00:00
    // before the second turned) reaches Redis last.
    const first = await store.resolve(request("ns-user-120000", noon, false));
    const second = await store.resolve(request("ns-user-120001", noon + 1_000, true));
    const third = await store.resolve(request("ns-user-120000", noon, true));
    const fourth = await store.resolve(request("ns-user-120001", noon + 1_000, true));
    const ids = [first, second, third, fourth].map((session) => session.sessionId);
    expect(ids).toEqual(["ns-user-120000", "ns-user-120001", "ns-user-120000-3", "ns-user-120001-4"]);
  });

  it.each(["server", "app"] as const)(
    "never repeats an id when a process 6 s behind forces many new sessions between an on-time one's (%s clock)",
    async (clock) => {
      const store = redisStore({ client: connection.client, clock });
      const namespace = uniqueNamespace();
      const time = createFakeClock();
      const onTime = new SessionManager({ store, namespace, now: time.now });
      const behind = new SessionManager({ store, namespace, now: () => time.now() - 6_000 });
      const ids: string[] = [];
      for (let round = 0; round < 40; round++) {
        for (let call = 0; call < 5; call++) {
          ids.push((await behind.resolve("user", undefined, { forceNew: true })).sessionId);
        }
        ids.push((await onTime.resolve("user", undefined, { forceNew: true })).sessionId);
        time.advance(0.3);
      }
      expect(new Set(ids).size).toBe(ids.length);
    },
  );

  it("appends long batches of items in order, in one call", async () => {
    const sessions = new SessionManager({
      store: redisStore({ client: connection.client }),
      namespace: uniqueNamespace(),
      maxItems: 10_000,
    });
    const session = await sessions.resolve("user");
    const items = Array.from({ length: 2_500 }, (_, index) => ({ index, text: "x".repeat(index % 7) }));
    await connection.command(["CONFIG", "RESETSTAT"]);
    await sessions.addItems(session, items);
    expect((await commandCalls(connection)).get("evalsha")).toBe(1);
    expect(await sessions.getItems(session)).toEqual(items);
    expect(await sessions.getItems(session, 2)).toEqual(items.slice(-2));
    expect(await sessions.getItems(session, 0)).toEqual([]);
  });

  it("appends a batch of 130,000 items atomically (parts in one MULTI/EXEC) and reads it back", async () => {
    const namespace = uniqueNamespace();
    const store = redisStore({ client: connection.client, operationTimeoutMs: 20_000 });
    const sessions = new SessionManager({ store, namespace });
    const session = await sessions.resolve("user");
    const items = Array.from({ length: 130_000 }, (_, index) => ({ role: "user", content: `message ${index}` }));
    await connection.command(["SCRIPT", "LOAD", scripts.appendItems.source]);
    await connection.command(["CONFIG", "RESETSTAT"]);
    // The contract's plain append (no bounds): a change through items.apply holds at most 8,192 items.
    await store.items.append({ ...session, now: Date.now() }, items);
    const calls = await commandCalls(connection);
    expect(calls.get("exec")).toBe(1);
    expect(calls.get("evalsha")).toBe(Math.ceil(items.length / 8_192));
    expect(await sessions.getItems(session, 3)).toEqual(items.slice(-3));
    expect(Number(await connection.command(["LLEN", pairKeys("threadline:", namespace, "user").items]))).toBe(
      items.length,
    );
    // A batch for a session that has ended stores nothing, not even its first parts.
    await sessions.closeSession("user");
    const next = await sessions.resolve("user");
    const error = await store.items.append({ ...session, now: Date.now() }, items).catch((caught: unknown) => caught);
    expect(codeOf(error)).toBe("SESSION_ENDED");
    expect(await sessions.getItems(next)).toEqual([]);
  });

  it("reads items with any limit, 1e21 and Infinity included, as one MULTI/EXEC without a script", async () => {
    const namespace = uniqueNamespace();
    const store = redisStore({ client: connection.client });
    const sessions = new SessionManager({ store, namespace });
    const session = await sessions.resolve("user");
    await sessions.addItems(session, ["a", "b", "c"]);
    const request = { ...session, now: Date.now() };
    await connection.command(["CONFIG", "RESETSTAT"]);
    expect(await store.items.list(request, 1e21)).toEqual(["a", "b", "c"]);
    expect(await store.items.list(request, Number.POSITIVE_INFINITY)).toEqual(["a", "b", "c"]);
    expect(await store.items.list(request, 2)).toEqual(["b", "c"]);
    expect(await sessions.getItems(session, 1e21)).toEqual(["a", "b", "c"]);
    const calls = await commandCalls(connection);
    expect(calls.get("exec")).toBe(4);
    expect(calls.get("lrange")).toBe(4);
    expect(calls.has("evalsha")).toBe(false);
    const bad = await store.items.list(request, -1).catch((caught: unknown) => caught);
    expect(codeOf(bad)).toBe("INVALID_OPTION");
  });

  it("refuses a sparse array of items with INVALID_ITEMS and stores nothing", async () => {
    const namespace = uniqueNamespace();
    const sessions = new SessionManager({ store: redisStore({ client: connection.client }), namespace });
    const session = await sessions.resolve("user");
    // biome-ignore lint/suspicious/noSparseArray: the hole is what is under test
    const sparse = [1, , 3];
    const error = await sessions.addItems(session, sparse).catch((caught: unknown) => caught);
    expect(codeOf(error)).toBe("INVALID_ITEMS");
    expect(Number(await connection.command(["EXISTS", pairKeys("threadline:", namespace, "user").items]))).toBe(0);
    expect(await sessions.getItems(session)).toEqual([]);
  });

  it("reports a key of the wrong type as STORE_ERROR, not as unavailable", async () => {
    const namespace = uniqueNamespace();
    await connection.command(["SET", pairKeys("threadline:", namespace, "user").session, "not a hash"]);
    const sessions = new SessionManager({ store: redisStore({ client: connection.client }), namespace });
    const error = await sessions.resolve("user").catch((caught: unknown) => caught);
    expect(codeOf(error)).toBe("STORE_ERROR");
    expect((error as Error).message).toMatch(/^\[threadline\] \[redis\] Redis rejected resolve: .*WRONGTYPE/);
  });

  it("lists sessions of namespaces full of glob characters without mixing them up", async () => {
    const base = uniqueNamespace();
    const store = redisStore({ client: connection.client, clock: "app" });
    const clock = createFakeClock();
    const namespaces = [`${base}*`, `${base}[a]`, `${base}?`, `${base}\\`, `${base}{x}`, base];
    for (const namespace of namespaces) {
      const sessions = new SessionManager({ store, namespace, now: clock.now });
      await sessions.resolve("user-1");
      await sessions.resolve("user-2");
    }
    for (const namespace of namespaces) {
      const page = await store.list({ now: clock.now(), namespace });
      expect(page.sessions.map((session) => session.userId).sort()).toEqual(["user-1", "user-2"]);
      expect(page.sessions.every((session) => session.namespace === namespace)).toBe(true);
    }
    const error = await store.list({ now: clock.now(), cursor: "not a cursor" }).catch((caught: unknown) => caught);
    expect(codeOf(error)).toBe("INVALID_OPTION");
  });
});

describe("listing", () => {
  let connection: TestClient;
  beforeAll(async () => {
    connection = await connectSingle("ioredis@5", server.url);
  });
  afterAll(() => connection.close());

  it("reads each key once, in one pipeline per SCAN step and no script, across small pages", async () => {
    const namespace = uniqueNamespace();
    const clock = createFakeClock();
    const store = redisStore({ client: connection.client, clock: "app" });
    const sessions = new SessionManager({ store, namespace, now: clock.now });
    const users = Array.from({ length: 250 }, (_, index) => `user-${index}`);
    for (const user of users) await sessions.resolve(user);
    await sessions.closeSession("user-7"); // a tombstone: scanned and read, never listed
    await connection.command(["CONFIG", "RESETSTAT"]);
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await store.list({ now: clock.now(), namespace, limit: 7, ...(cursor ? { cursor } : {}) });
      expect(page.sessions.length).toBeLessThanOrEqual(7);
      seen.push(...page.sessions.map((session) => session.userId));
      cursor = page.cursor;
      pages++;
    } while (cursor !== undefined && pages < 1_000);
    expect(seen.sort()).toEqual(users.filter((user) => user !== "user-7").sort());
    const calls = await commandCalls(connection);
    expect(calls.has("evalsha")).toBe(false);
    expect(calls.get("hmget")).toBe(users.length); // every key once, the tombstone included
    expect(calls.get("scan") ?? 0).toBeLessThanOrEqual(pages + 1);
  });

  it("refuses cursors it did not make: another namespace's, a foreign key, a bad SCAN cursor", async () => {
    const namespace = uniqueNamespace();
    const clock = createFakeClock();
    const store = redisStore({ client: connection.client, clock: "app" });
    const sessions = new SessionManager({ store, namespace, now: clock.now });
    for (let index = 0; index < 30; index++) await sessions.resolve(`user-${index}`);
    const first = await store.list({ now: clock.now(), namespace, limit: 3 });
    expect(first.cursor).toBeDefined();
    const other = uniqueNamespace();
    const forged = [
      JSON.stringify([0, "0", ["some:other:key"]]),
      JSON.stringify([0, "0", [pairKeys("threadline:", other, "user").session]]),
      JSON.stringify([0, "12x", []]),
      JSON.stringify([-1, "0", []]),
      "not a cursor",
    ];
    for (const cursor of forged) {
      const error = await store.list({ now: clock.now(), namespace, cursor }).catch((caught: unknown) => caught);
      expect(codeOf(error), cursor).toBe("INVALID_OPTION");
    }
    // A cursor from this listing is accepted for the same namespace, and not for another one.
    expect(
      (await store.list({ now: clock.now(), namespace, cursor: first.cursor as string })).sessions.length,
    ).toBeGreaterThan(0);
    const pending = JSON.parse(first.cursor as string)[2] as string[];
    if (pending.length > 0) {
      const error = await store
        .list({ now: clock.now(), namespace: other, cursor: first.cursor as string })
        .catch((caught: unknown) => caught);
      expect(codeOf(error)).toBe("INVALID_OPTION");
    }
  });
});

describe("the server clock", () => {
  let connection: TestClient;
  beforeAll(async () => {
    connection = await connectSingle("ioredis@5", server.url);
  });
  afterAll(() => connection.close());

  it("makes app instances with skewed clocks agree, and stamps sessions with Redis time", async () => {
    const namespace = uniqueNamespace();
    const store = redisStore({ client: connection.client }); // clock: "server" is the default
    expect(store.clock).toBe("server");
    const hourAhead = new SessionManager({ store, namespace, now: () => Date.now() + 3_600_000 });
    const hourBehind = new SessionManager({ store, namespace, now: () => Date.now() - 3_600_000 });
    const before = Date.now();
    const first = await hourAhead.resolve("user");
    const second = await hourBehind.resolve("user");
    const after = Date.now();
    expect(second.sessionId).toBe(first.sessionId);
    expect(second.isNew).toBe(false);
    // Redis runs on this machine, so its clock is ours (to the millisecond TIME truncates to).
    expect(first.createdAt).toBeGreaterThanOrEqual(before - 1);
    expect(second.lastActivityAt).toBeLessThanOrEqual(after + 1);
    expect(second.expiresAt).toBe(second.lastActivityAt + 120_000);
  });

  it("expires sessions by Redis time even when the app clock stands still", async () => {
    const frozen = createFakeClock();
    const sessions = new SessionManager({
      store: redisStore({ client: connection.client }),
      namespace: uniqueNamespace(),
      now: frozen.now,
      inactivityTimeout: 1,
    });
    const first = await sessions.resolve("user");
    expect((await sessions.resolve("user")).sessionId).toBe(first.sessionId);
    // The one real wait in these tests: the server clock is what is under test.
    await new Promise((resolve) => setTimeout(resolve, 1_050));
    const next = await sessions.resolve("user");
    expect(next.isNew).toBe(true);
    expect(next.sessionId).not.toBe(first.sessionId);
  });
});

describe("on the cluster", () => {
  let connection: TestClient;
  beforeAll(async () => {
    connection = await connectCluster("redis@5", inject("clusterNodes"));
  });
  afterAll(() => connection.close());

  it("puts a user's session and items in one slot, and spreads users over every master", async () => {
    const slotOf = async (key: string) => Number(await connection.command(["CLUSTER", "KEYSLOT", key]));
    for (const userId of ["alice", "{tag}", "}{", "a}b{c", "%7B"]) {
      const keys = pairKeys("threadline:", "ns", userId);
      expect(await slotOf(keys.items)).toBe(await slotOf(keys.session));
    }
    const slots = await Promise.all(
      Array.from({ length: 30 }, (_, index) => slotOf(pairKeys("threadline:", "ns", `}user-${index}`).session)),
    );
    expect(new Set(slots).size).toBeGreaterThan(20);
  });

  it.each(flavors)(
    "appends a batch too long for one command in one transaction on the cluster with %s",
    async (flavor) => {
      const cluster = await connectCluster(flavor, inject("clusterNodes"));
      try {
        const store = redisStore({ client: cluster.client, operationTimeoutMs: 20_000 });
        const sessions = new SessionManager({ store, namespace: uniqueNamespace() });
        const session = await sessions.resolve("user");
        const items = Array.from({ length: 20_000 }, (_, index) => index);
        await store.items.append({ ...session, now: Date.now() }, items); // three parts
        expect(await sessions.getItems(session)).toEqual(items);
      } finally {
        await cluster.close();
      }
    },
  );

  it("lists the sessions on every master, page by page", async () => {
    const namespace = uniqueNamespace();
    const clock = createFakeClock();
    const store = redisStore({ client: connection.client, clock: "app" });
    const sessions = new SessionManager({ store, namespace, now: clock.now });
    const users = Array.from({ length: 40 }, (_, index) => `user-${index}`);
    for (const user of users) await sessions.resolve(user);
    await sessions.closeSession("user-0");
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await store.list({ now: clock.now(), namespace, limit: 6, ...(cursor ? { cursor } : {}) });
      expect(page.sessions.length).toBeLessThanOrEqual(6);
      seen.push(...page.sessions.map((session) => session.userId));
      cursor = page.cursor;
      pages++;
    } while (cursor !== undefined && pages < 100);
    expect(seen.sort()).toEqual(users.slice(1).sort());
    clock.advance(120);
    expect((await store.list({ now: clock.now(), namespace })).sessions).toEqual([]);
  });
});

describe("clients", () => {
  it.each(flavors)("recognises %s on a single node and on the cluster", async (flavor) => {
    const single = await connectSingle(flavor, server.url);
    const cluster = await connectCluster(flavor, inject("clusterNodes"));
    try {
      const library = flavor.startsWith("ioredis") ? "ioredis" : "node-redis";
      expect(redisStore({ client: single.client }).clientKind).toBe(library);
      expect(redisStore({ client: cluster.client }).clientKind).toBe(`${library}-cluster`);
    } finally {
      await Promise.all([single.close(), cluster.close()]);
    }
  });

  it("works through an ioredis client that has a keyPrefix of its own", async () => {
    const connection = await connectSingle("ioredis@5", server.url, { ioredis: { keyPrefix: "app:" } });
    try {
      const namespace = uniqueNamespace();
      const clock = createFakeClock();
      const store = redisStore({ client: connection.client, clock: "app" });
      const sessions = new SessionManager({ store, namespace, now: clock.now });
      const session = await sessions.resolve("user");
      const raw = await connectSingle("ioredis@5", server.url);
      expect(Number(await raw.command(["EXISTS", `app:${pairKeys("threadline:", namespace, "user").session}`]))).toBe(
        1,
      );
      await raw.close();
      expect((await store.list({ now: clock.now(), namespace })).sessions).toMatchObject([
        { sessionId: session.sessionId, userId: "user", namespace },
      ]);
    } finally {
      await connection.close();
    }
  });

  it("names the mistake when the client itself is passed instead of { client }", async () => {
    const connections = [await connectSingle("redis@5", server.url), await connectSingle("ioredis@5", server.url)];
    try {
      for (const { client } of connections) {
        let caught: unknown;
        try {
          redisStore(client as never);
        } catch (error) {
          caught = error;
        }
        expect(codeOf(caught)).toBe("INVALID_OPTION");
        expect((caught as Error).message).toContain("redisStore({ client })");
      }
    } finally {
      await Promise.all(connections.map((connection) => connection.close()));
    }
  });

  it("says to connect first, not that Redis is down, when a client was never connected", async () => {
    const { createClient } = await import("redis");
    const { Redis } = await import("ioredis");
    const nodeRedis = createClient({ url: server.url });
    const ioredis = new Redis(server.url, { lazyConnect: true, enableOfflineQueue: false });
    try {
      for (const client of [nodeRedis, ioredis]) {
        const sessions = new SessionManager({ store: redisStore({ client }), namespace: uniqueNamespace() });
        const error = await sessions.resolve("user").catch((caught: unknown) => caught);
        expect(codeOf(error), String(error)).toBe("INVALID_OPTION");
        expect((error as Error).message).toContain("await client.connect()");
      }
    } finally {
      ioredis.disconnect();
    }
  });

  it("rejects bad options with INVALID_OPTION", async () => {
    const connection = await connectSingle("ioredis@5", server.url);
    const client = connection.client;
    try {
      const attempts: Array<() => unknown> = [
        () => redisStore({ client: {} as never }),
        () => redisStore(undefined as never),
        () => redisStore({ client, keyPrefix: "{app}:" }),
        () => redisStore({ client, keyPrefix: 5 as never }),
        () => redisStore({ client, clock: "local" as never }),
        () => redisStore({ client, operationTimeoutMs: 0 }),
        () => redisStore({ client, operationTimeoutMs: 1.5 }),
        () => redisStore({ client, expiredRetentionMs: -1 }),
        () => redisStore({ client, idHistoryMs: -1 }),
        () => redisStore({ client, idHistoryMs: 1.5 }),
      ];
      for (const attempt of attempts) {
        let caught: unknown;
        try {
          attempt();
        } catch (error) {
          caught = error;
        }
        expect(codeOf(caught)).toBe("INVALID_OPTION");
        expect((caught as Error).message).toMatch(/^\[threadline\] \[redis\] /);
      }
    } finally {
      await connection.close();
    }
  });
});
