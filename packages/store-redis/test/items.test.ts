// What the conformance suite cannot see of item changes and carry-over on Redis: a redelivered
// append racing from several OS processes, carried items handed out once to concurrent resolves
// from several processes, the keys a pair leaves after forgetUser (carried items included), and
// how items are stored (group marks, the operations hash, TTLs).
import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { SessionManager } from "@threadline/session-core";
import { createFakeClock, uniqueNamespace } from "@threadline/session-core/testing";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { redisStore } from "../src/index.js";
import { pairKeys } from "../src/keys.js";
import { connectCluster, connectSingle, type Flavor, type TestClient } from "./clients.js";
import type { ItemsWorkerJob, ItemsWorkerResult, ItemsWorkerSetup } from "./items-worker.js";
import { keysUnder, nextMessage, startWorkers, stopWorkers } from "./processes.js";

const PROCESSES = 3;
const workerPath = fileURLToPath(new URL("./items-worker.ts", import.meta.url));
const uniquePrefix = () => `items-${uniqueNamespace()}:`;

describe.each([
  ["ioredis@5", "single node"],
  ["redis@5", "cluster"],
] as const)("%s, %s, across processes", (flavor: Flavor, topology) => {
  let workers: ChildProcess[] = [];
  const keyPrefix = uniquePrefix();

  beforeAll(async () => {
    const setup: ItemsWorkerSetup =
      topology === "cluster"
        ? { flavor, clusterNodes: inject("clusterNodes"), keyPrefix }
        : { flavor, url: inject("redisUrl"), keyPrefix };
    workers = await startWorkers(workerPath, PROCESSES, setup);
  }, 60_000);

  afterAll(async () => {
    await stopWorkers(workers);
  });

  async function race(job: ItemsWorkerJob): Promise<ItemsWorkerResult[]> {
    const results = workers.map((worker) => nextMessage<ItemsWorkerResult>(worker));
    for (const worker of workers) worker.send(job);
    return Promise.all(results);
  }

  it("appends a redelivered change once when every process delivers it at the same time", async () => {
    const namespace = uniqueNamespace();
    const job: ItemsWorkerJob = {
      kind: "append",
      namespace,
      userId: "5511999999999",
      calls: 50,
      operationId: "wamid.HBgM",
      items: ["hello", "world"],
    };
    const results = await race(job);
    expect(results.flatMap((result) => result.errors)).toEqual([]);
    const outcomes = results.flatMap((result) => result.outcomes);
    expect(outcomes).toHaveLength(PROCESSES * job.calls);
    expect(outcomes.filter((outcome) => outcome.applied)).toHaveLength(1);
    const connection =
      topology === "cluster"
        ? await connectCluster(flavor, inject("clusterNodes"))
        : await connectSingle(flavor, inject("redisUrl"));
    try {
      const sessions = new SessionManager({ store: redisStore({ client: connection.client, keyPrefix }), namespace });
      const session = await sessions.resolve(job.userId);
      expect(await sessions.getItems(session)).toEqual(["hello", "world"]);
    } finally {
      await connection.close();
    }
  });

  it("hands carried items to exactly one of many concurrent resolves from every process", async () => {
    const namespace = uniqueNamespace();
    const connection =
      topology === "cluster"
        ? await connectCluster(flavor, inject("clusterNodes"))
        : await connectSingle(flavor, inject("redisUrl"));
    try {
      const store = redisStore({ client: connection.client, keyPrefix });
      const sessions = new SessionManager({ store, namespace, cleanupInterval: 0 });
      const first = await sessions.resolve("user");
      await sessions.addItems(first, ["my name is Ana", "hi Ana"]);
      const ended = await store.close({
        namespace,
        userId: "user",
        now: Date.now(),
        retentionMs: 0,
        carryOverMs: 600_000,
      });
      expect(ended?.session.sessionId).toBe(first.sessionId);
      const results = await race({ kind: "resolve", namespace, userId: "user", calls: 30 });
      expect(results.flatMap((result) => result.errors)).toEqual([]);
      const outcomes = results.flatMap((result) => result.outcomes);
      expect(new Set(outcomes.map((outcome) => outcome.sessionId)).size).toBe(1);
      const carried = outcomes.filter((outcome) => outcome.carried !== undefined);
      expect(carried.map((outcome) => outcome.carried)).toEqual([["my name is Ana", "hi Ana"]]);
    } finally {
      await connection.close();
    }
  });
});

describe.each(["ioredis@5", "redis@5"] as const)("items with %s", (flavor) => {
  let connection: TestClient;
  beforeAll(async () => {
    connection = await connectSingle(flavor, inject("redisUrl"));
  });
  afterAll(() => connection.close());

  it("forgetUser leaves no key of the pair, carried items included", async () => {
    const keyPrefix = uniquePrefix();
    const clock = createFakeClock();
    const store = redisStore({ client: connection.client, clock: "app", keyPrefix });
    const sessions = new SessionManager({
      store,
      now: clock.now,
      namespace: "ns",
      retention: 3_600,
      cleanupInterval: 0,
    });
    const session = await sessions.resolve("user");
    await sessions.addItems(session, ["a", "b"], { operationId: "op-1" });
    await store.close({
      namespace: "ns",
      userId: "user",
      now: clock.now(),
      retentionMs: 3_600_000,
      carryOverMs: 600_000,
    });
    const mine = pairKeys(keyPrefix, "ns", "user");
    // Closed with carry-over: the items wait for the next session; the operation ids went with the session.
    expect(await keysUnder(connection, keyPrefix)).toEqual([mine.session, mine.items, mine.history].sort());
    expect(await sessions.forgetUser("user")).toBe(1);
    expect(await keysUnder(connection, keyPrefix)).toEqual([`${keyPrefix}f`]);
    // Nothing carried reaches the next session.
    const next = await store.resolve({
      namespace: "ns",
      userId: "user",
      now: clock.now(),
      timeoutMs: 120_000,
      forceNew: false,
      retentionMs: 0,
      carryOverMs: 600_000,
      proposeSessionId: () => "next",
    });
    expect(next.carried).toBeUndefined();
  });

  it("carries items over from a close, a sweep and a resolve that ends the session, once, within carryOverMs", async () => {
    const keyPrefix = uniquePrefix();
    const clock = createFakeClock();
    const seeds: Array<{ items: unknown[]; previousSessionId: string }> = [];
    const sessions = new SessionManager({
      store: redisStore({ client: connection.client, clock: "app", keyPrefix }),
      now: clock.now,
      namespace: uniqueNamespace(),
      cleanupInterval: 0,
      carryOver: {
        within: 3_600,
        seed: (context) => {
          seeds.push({ items: context.items, previousSessionId: context.previousSessionId });
          return [`summary of ${context.items.length}`];
        },
      },
    });
    // Ended by time, claimed by the next resolve.
    const first = await sessions.resolve("user");
    await sessions.addItems(first, ["my name is Ana", "hi Ana"]);
    clock.advance(600);
    const second = await sessions.resolve("user");
    expect(await sessions.getItems(second)).toEqual(["summary of 2"]);
    // Closed.
    await sessions.closeSession("user");
    const third = await sessions.resolve("user");
    expect(await sessions.getItems(third)).toEqual(["summary of 1"]);
    // Expired and claimed by a cleanup; the next resolve takes them.
    clock.advance(600);
    await sessions.cleanupExpired();
    const fourth = await sessions.resolve("user");
    expect(await sessions.getItems(fourth)).toEqual(["summary of 1"]);
    expect(seeds.map((seed) => seed.previousSessionId)).toEqual([first.sessionId, second.sessionId, third.sessionId]);
    // Past carryOverMs they are gone.
    await sessions.closeSession("user");
    clock.advance(3_601);
    const fifth = await sessions.resolve("user");
    expect(await sessions.getItems(fifth)).toEqual([]);
    expect(seeds).toHaveLength(3);
  });

  it("stores a group's later items with a mark, keeps the byte total, and trims whole groups", async () => {
    const keyPrefix = uniquePrefix();
    const namespace = uniqueNamespace();
    const sessions = new SessionManager({
      store: redisStore({ client: connection.client, keyPrefix }),
      namespace,
      maxItems: 4,
    });
    const session = await sessions.resolve("user");
    await sessions.addItems(session, ["q1", "a1"]);
    await sessions.addItems(session, ["t1"], { continuesGroup: true });
    const keys = pairKeys(keyPrefix, namespace, "user");
    expect(await connection.command(["LRANGE", keys.items, "0", "-1"])).toEqual(['"q1"', '+"a1"', '+"t1"']);
    expect(await sessions.changeItems(session, { type: "append", items: ["q2", "a2"] })).toEqual({
      applied: true,
      trimmed: 3,
    });
    expect(await sessions.getItems(session)).toEqual(["q2", "a2"]);
    const meta = (await connection.command(["HMGET", keys.operations, "#b", "#gn", "#gb"])) as unknown[];
    expect(meta.map(String)).toEqual(["8", "2", "8"]);
    expect(await sessions.popItem(session)).toBe("a2");
    expect(await sessions.getItems(session)).toEqual(["q2"]);
  });
});
