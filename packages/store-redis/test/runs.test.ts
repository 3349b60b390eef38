// What the conformance suite cannot see of run records on Redis: one run redelivered from several
// OS processes at once is kept and counted once, the totals on every record the store hands out
// (hit, touch, listing, the end a close or a sweep claims), the keys a pair leaves after
// forgetUser, the per-session bound as stored, and a run hash living as long as its history entry.
import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type RunRecord, type SessionEndEvent, SessionManager } from "@threadline/session-core";
import { createFakeClock, runOf, uniqueNamespace } from "@threadline/session-core/testing";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { redisStore } from "../src/index.js";
import { pairKeys, runsKey } from "../src/keys.js";
import { connectCluster, connectSingle, type Flavor, type TestClient } from "./clients.js";
import { keysUnder, nextMessage, startWorkers, stopWorkers } from "./processes.js";
import type { RunsWorkerJob, RunsWorkerResult, RunsWorkerSetup } from "./runs-worker.js";

const PROCESSES = 3;
const workerPath = fileURLToPath(new URL("./runs-worker.ts", import.meta.url));
const uniquePrefix = () => `runs-${uniqueNamespace()}:`;

const connect = (flavor: Flavor, topology: "single node" | "cluster") =>
  topology === "cluster" ? connectCluster(flavor, inject("clusterNodes")) : connectSingle(flavor, inject("redisUrl"));

describe.each([
  ["ioredis@5", "single node"],
  ["redis@5", "cluster"],
] as const)("%s, %s, across processes", (flavor: Flavor, topology) => {
  let workers: ChildProcess[] = [];
  const keyPrefix = uniquePrefix();

  beforeAll(async () => {
    const setup: RunsWorkerSetup =
      topology === "cluster"
        ? { flavor, clusterNodes: inject("clusterNodes"), keyPrefix }
        : { flavor, url: inject("redisUrl"), keyPrefix };
    workers = await startWorkers(workerPath, PROCESSES, setup);
  }, 60_000);

  afterAll(async () => {
    await stopWorkers(workers);
  });

  it("keeps and counts a run once when every process delivers it at the same time", async () => {
    const namespace = uniqueNamespace();
    const connection = await connect(flavor, topology);
    try {
      const sessions = new SessionManager({ store: redisStore({ client: connection.client, keyPrefix }), namespace });
      const session = await sessions.resolve("5511999999999");
      await sessions.addRunRecord(runOf(session));
      const record = runOf(session, { usage: { inputTokens: 7, outputTokens: 3, totalTokens: 10 } });
      const job: RunsWorkerJob = { record, calls: 20 };
      const results = await Promise.all(
        workers.map((worker) => {
          const result = nextMessage<RunsWorkerResult>(worker);
          worker.send(job);
          return result;
        }),
      );
      expect(results.flatMap((result) => result.errors)).toEqual([]);
      const totals = results.flatMap((result) => result.totals);
      expect(totals).toHaveLength(PROCESSES * job.calls);
      const expected = {
        runs: 2,
        inputTokens: 17,
        outputTokens: 8,
        totalTokens: 25,
        toolCalls: 2,
        handoffs: 2,
        errors: 0,
        lastAgent: "Billing",
      };
      for (const seen of totals) expect(seen).toEqual(expected);
      const page = await sessions.listRunRecords(session);
      expect(page.records.map((kept) => kept.runId)).toEqual([expect.any(String), record.runId]);
      expect((await sessions.getSessionInfo(session.userId))?.totals).toEqual(expected);
    } finally {
      await connection.close();
    }
  });
});

describe.each(["ioredis@5", "redis@5"] as const)("run records with %s", (flavor) => {
  let connection: TestClient;
  beforeAll(async () => {
    connection = await connectSingle(flavor, inject("redisUrl"));
  });
  afterAll(() => connection.close());

  it("forgetUser leaves no key of the pair: the live session's runs and those kept in history", async () => {
    const keyPrefix = uniquePrefix();
    const clock = createFakeClock();
    const sessions = new SessionManager({
      store: redisStore({ client: connection.client, clock: "app", keyPrefix }),
      now: clock.now,
      namespace: "ns",
      retention: 3_600,
      cleanupInterval: 0,
    });
    const first = await sessions.resolve("user");
    await sessions.addRunRecord(runOf(first));
    await sessions.closeSession("user");
    await sessions.addRunRecord(runOf(first)); // late
    const quiet = await sessions.resolve("user");
    await sessions.closeSession("user"); // no runs: its history entry has no run hash
    const second = await sessions.resolve("user");
    await sessions.addRunRecord(runOf(second));
    const mine = pairKeys(keyPrefix, "ns", "user");
    expect(await keysUnder(connection, keyPrefix)).toEqual(
      [
        mine.session,
        mine.history,
        `${keyPrefix}x`,
        runsKey(keyPrefix, mine.tag, first.sessionId),
        runsKey(keyPrefix, mine.tag, second.sessionId),
      ].sort(),
    );
    expect(quiet.sessionId).not.toBe(second.sessionId);
    expect(await sessions.forgetUser("user")).toBe(3);
    expect(await keysUnder(connection, keyPrefix)).toEqual([`${keyPrefix}f`]);
    expect((await sessions.listRunRecords(first)).records).toEqual([]);
  });

  it("keeps at most maxRuns records in the session's hash; the totals and the sequence keep counting", async () => {
    const keyPrefix = uniquePrefix();
    const namespace = uniqueNamespace();
    const sessions = new SessionManager({
      store: redisStore({ client: connection.client, keyPrefix }),
      namespace,
      maxRuns: 3,
    });
    const session = await sessions.resolve("user");
    const records = Array.from({ length: 5 }, () => runOf(session));
    for (const record of records) await sessions.addRunRecord(record);
    const key = runsKey(keyPrefix, pairKeys(keyPrefix, namespace, "user").tag, session.sessionId);
    const fields = ((await connection.command(["HKEYS", key])) as unknown[]).map(String).sort();
    expect(fields).toEqual(["3", "4", "5", "l", "t", ...records.slice(2).map((record) => `=${record.runId}`)].sort());
    // A kept run redelivered changes nothing.
    expect((await sessions.addRunRecord(records[4] as RunRecord)).runs).toBe(5);
    const page = await sessions.listRunRecords(session, { limit: 2 });
    expect(page).toEqual({ records: records.slice(2, 4), cursor: "4" });
    expect(await sessions.listRunRecords(session, { cursor: "4" })).toEqual({ records: records.slice(4) });
    // A cursor from before the oldest drop resumes at the oldest kept.
    expect((await sessions.listRunRecords(session, { cursor: "1" })).records).toEqual(records.slice(2));
  });

  it("hands the totals on every record: hit, touch, listing, and the ends a close and a sweep claim", async () => {
    const keyPrefix = uniquePrefix();
    const clock = createFakeClock();
    const ends: SessionEndEvent[] = [];
    const store = redisStore({ client: connection.client, clock: "app", keyPrefix });
    const sessions = new SessionManager({
      store,
      now: clock.now,
      namespace: "ns",
      retention: 3_600,
      cleanupInterval: 0,
      onSessionEnd: (end) => void ends.push(end),
    });
    const first = await sessions.resolve("user");
    expect(first.totals).toBeUndefined();
    const totals = await sessions.addRunRecord(runOf(first, { finalAgent: "Refunds agent =x" }));
    expect(totals.lastAgent).toBe("Refunds agent =x");
    expect((await sessions.resolve("user")).totals).toEqual(totals);
    const touched = await store.touch({ namespace: "ns", userId: "user", now: clock.now(), timeoutMs: 120_000 });
    expect(touched?.totals).toEqual(totals);
    expect((await sessions.getSessionInfo("user"))?.totals).toEqual(totals);
    expect((await sessions.listSessions({ userId: "user" })).sessions[0]?.totals).toEqual(totals);
    // Items beside the runs keep both marks.
    await sessions.addItems(first, ["a"]);
    await sessions.clearItems(first);
    expect((await sessions.resolve("user")).totals).toEqual(totals);
    // Expired, claimed by a cleanup: the end carries the totals; a late run updates the history's.
    clock.advance(600);
    await sessions.cleanupExpired();
    await sessions.flush();
    expect(ends.map((end) => end.session.totals)).toEqual([totals]);
    const late = await sessions.addRunRecord(runOf(first, { error: "timed out" }));
    expect(late).toMatchObject({ runs: 2, errors: 1 });
    const [ended] = (await sessions.listSessions({ userId: "user", status: "ended" })).sessions;
    expect(ended?.totals).toEqual(late);
    // The next session starts without totals; its close hands them over.
    const second = await sessions.resolve("user");
    expect(second.totals).toBeUndefined();
    await sessions.addRunRecord(runOf(second));
    await sessions.closeSession("user");
    await sessions.flush();
    expect(ends[1]?.session.totals?.runs).toBe(1);
    // The run hash of an ended session lives as long as its history entry.
    const key = runsKey(keyPrefix, pairKeys(keyPrefix, "ns", "user").tag, second.sessionId);
    const ttl = Number(await connection.command(["PTTL", key]));
    expect(ttl).toBeGreaterThan(3_500_000);
    expect(ttl).toBeLessThanOrEqual(3_600_000);
    clock.advance(3_600);
    expect((await sessions.listRunRecords(second)).records).toEqual([]);
  });
});
