import { env, runInDurableObject } from "cloudflare:test";
import { type SessionEndEvent, SessionManager, type SessionManagerOptions } from "@threadline/session-core";
import { createFakeClock, type FakeClock, runOf, uniqueNamespace } from "@threadline/session-core/testing";
import { beforeEach, describe, expect, it } from "vitest";
import { type DurableObjectStubLike, durableObjectStore, sessionKey } from "../src/index.js";
import { directObject } from "./support/direct-object.js";
import { type KeyCounts, keyCountingStorage, zeroCounts } from "./support/key-counting-storage.js";

let clock: FakeClock;
let namespace: string;
let keyPrefix: string;

beforeEach(() => {
  clock = createFakeClock();
  namespace = uniqueNamespace();
  keyPrefix = `${uniqueNamespace()}:`;
});

/** A store and manager built the way a Worker builds them for each request: from `env`. */
function perRequest(overrides: SessionManagerOptions = {}): SessionManager {
  const store = durableObjectStore({ namespace: env.SESSION_OBJECTS, keyPrefix });
  return new SessionManager({ store, now: clock.now, namespace, cleanupInterval: 0, ...overrides });
}

async function objectOf(userId: string): Promise<DurableObjectStubLike> {
  const name = await sessionKey(keyPrefix, namespace, userId);
  return env.SESSION_OBJECTS.get(env.SESSION_OBJECTS.idFromName(name));
}

async function storedKeys(userId: string): Promise<string[]> {
  return runInDurableObject(await objectOf(userId), async (_, state) => [...(await state.storage.list()).keys()]);
}

const runKeys = (keys: string[]) => keys.filter((key) => key.startsWith("run")).sort();

describe("run records across Workers", () => {
  it("keeps and counts a run delivered by 10 Workers at once once", async () => {
    const session = await perRequest().resolve("user");
    const record = runOf(session);
    // Each delivery is its own Worker request: its own store and manager.
    const totals = await Promise.all(Array.from({ length: 10 }, () => perRequest().addRunRecord(record)));
    for (const each of totals) expect(each).toMatchObject({ runs: 1, inputTokens: 10, toolCalls: 1 });
    const sessions = perRequest();
    expect((await sessions.listRunRecords(session)).records).toEqual([record]);
    expect((await sessions.getSessionInfo("user"))?.totals?.runs).toBe(1);
    expect(runKeys(await storedKeys("user"))).toEqual([
      "run:000000000001:000000000001",
      `runid:000000000001:=${record.runId}`,
    ]);
  });

  it("shows the totals on every record of the session: resolve, touch, get, lists and the end event", async () => {
    const ends: SessionEndEvent[] = [];
    const sessions = perRequest({ retention: 3600, onSessionEnd: (end) => void ends.push(end) });
    const session = await sessions.resolve("user");
    expect(session.totals).toBeUndefined();
    await sessions.addRunRecord(runOf(session));
    const store = durableObjectStore({ namespace: env.SESSION_OBJECTS, keyPrefix });
    const key = { namespace, userId: "user", now: clock.now() };
    expect((await sessions.resolve("user")).totals?.runs).toBe(1);
    expect((await store.touch({ ...key, timeoutMs: 120_000 }))?.totals?.runs).toBe(1);
    expect((await store.get(key))?.totals?.runs).toBe(1);
    expect((await sessions.listSessions({ userId: "user" })).sessions[0]?.totals?.runs).toBe(1);
    // forceNew ends it at a resolve: the end event and its history entry carry the totals.
    const next = await sessions.resolve("user", undefined, { forceNew: true });
    await sessions.flush();
    expect(next.totals).toBeUndefined();
    expect(ends[0]?.session.totals?.runs).toBe(1);
    const [ended] = (await sessions.listSessions({ userId: "user", status: "ended" })).sessions;
    expect(ended?.totals?.runs).toBe(1);
    expect((await sessions.listRunRecords(session)).records).toHaveLength(1);
    expect((await sessions.listRunRecords(next)).records).toEqual([]);
  });
});

describe("run records go with their session", () => {
  it("moves with a session whose end a sweep claimed into its history entry", async () => {
    const ends: SessionEndEvent[] = [];
    const sessions = perRequest({ retention: 3600, onSessionEnd: (end) => void ends.push(end) });
    const session = await sessions.resolve("user");
    const record = runOf(session);
    await sessions.addRunRecord(record);
    clock.advance(121);
    expect(await sessions.cleanupExpired()).toBe(1);
    await sessions.flush();
    expect(ends[0]).toMatchObject({ reason: "expired", session: { totals: { runs: 1 } } });
    expect((await sessions.listRunRecords(session)).records).toEqual([record]);
    expect((await sessions.addRunRecord(runOf(session))).runs).toBe(2); // late, still in history
    const [ended] = (await sessions.listSessions({ userId: "user", status: "ended" })).sessions;
    expect(ended?.totals?.runs).toBe(2);
  });

  it("forgetUser leaves no storage key of runs, live or in history", async () => {
    const sessions = perRequest({ retention: 3600 });
    const first = await sessions.resolve("user");
    await sessions.addRunRecord(runOf(first));
    await sessions.closeSession("user");
    await sessions.addRunRecord(runOf(first)); // late, kept with the ended session
    const second = await sessions.resolve("user");
    await sessions.addRunRecord(runOf(second));
    expect(runKeys(await storedKeys("user"))).toHaveLength(6);
    expect(await sessions.forgetUser("user")).toBe(2);
    expect(await storedKeys("user")).toEqual([]);
    expect((await sessions.listRunRecords(first)).records).toEqual([]);
  });

  it("deletes an ended session's runs at its end without retention, and with its history entry when that expires", async () => {
    const stub = await objectOf("user");
    await runInDurableObject(stub, async (_, state) => {
      const { object, send } = await directObject(state.storage, clock.now);
      const resolve = (forceNew: boolean) =>
        send<{ sessionId: string }>({
          op: "resolve",
          namespace,
          userId: "user",
          now: clock.now(),
          timeoutMs: 120_000,
          forceNew,
          candidate: `s-${clock.now()}`,
          retentionMs: 60_000,
          maxDurationMs: null,
          maxTurns: null,
        });
      const addRun = (sessionId: string) =>
        send({
          op: "run",
          sessionId,
          now: clock.now(),
          maxRuns: 100,
          runKey: `=${crypto.randomUUID()}`,
          text: JSON.stringify(runOf({ namespace, userId: "user", sessionId })),
        });
      const keys = async () => runKeys([...(await state.storage.list()).keys()]);
      const kept = await resolve(false);
      await addRun(kept.sessionId);
      await addRun(kept.sessionId);
      // Ended with a retention of 60 s: the runs stay with its history entry.
      const next = await resolve(true);
      await addRun(kept.sessionId); // late
      expect(await keys()).toHaveLength(6);
      await addRun(next.sessionId);
      // The history entry's retention runs out: the alarm drops it with its runs.
      clock.advance(61);
      await object.alarm();
      expect(await keys()).toEqual(["run:000000000002:000000000001", expect.stringMatching(/^runid:000000000002:/)]);
      // Closed without retention: its runs go at once.
      await send({ op: "close", now: clock.now(), sessionId: null, retentionMs: 0 });
      expect(await keys()).toEqual([]);
    });
  });
});

describe("cost of keeping a run (storage calls and keys, counted at the object's storage)", () => {
  /** Keeps `kept` runs in a session (bound `maxRuns`), then counts one more add, and reading a page of 10. */
  async function costAt(kept: number, maxRuns: number) {
    const stub = await objectOf(`cost-${kept}-${maxRuns}`);
    return runInDurableObject(stub, async (_, state) => {
      const counts = zeroCounts();
      const { send } = await directObject(keyCountingStorage(state.storage, counts), clock.now);
      const now = clock.now();
      const { sessionId } = await send<{ sessionId: string }>({
        op: "resolve",
        namespace,
        userId: "user",
        now,
        timeoutMs: 120_000,
        forceNew: false,
        candidate: "cost",
        retentionMs: 0,
        maxDurationMs: null,
        maxTurns: null,
      });
      const add = (index: number) =>
        send({
          op: "run",
          sessionId,
          now,
          maxRuns,
          runKey: `=run-${index}`,
          text: JSON.stringify(runOf({ namespace, userId: "user", sessionId }, { runId: `run-${index}` })),
        });
      for (let index = 0; index < kept; index++) await add(index);
      Object.assign(counts, zeroCounts());
      await add(kept);
      const added: KeyCounts = { ...counts };
      Object.assign(counts, zeroCounts());
      await add(kept); // the same run again
      const repeated: KeyCounts = { ...counts };
      Object.assign(counts, zeroCounts());
      const page = await send<{ texts: string[]; next: number | null }>({
        op: "runs",
        sessionId,
        now,
        after: 0,
        limit: 10,
      });
      return { added, repeated, list: { ...counts }, page };
    });
  }

  it("adds at the same cost with 10 or 100 runs kept: one read, one put", async () => {
    const small = await costAt(10, 1_000);
    const large = await costAt(100, 1_000);
    // The run id's lookup; one put of the record, its run id and the session's value.
    expect(small.added).toEqual({ reads: 1, keysRead: 0, writes: 1, keysWritten: 3, keysDeleted: 0 });
    expect(large.added).toEqual(small.added);
    // A run kept before: the lookup finds it, nothing is written.
    expect(small.repeated).toEqual({ reads: 1, keysRead: 1, writes: 0, keysWritten: 0, keysDeleted: 0 });
    expect(large.repeated).toEqual(small.repeated);
    // A page of 10 lists 10 keys, whatever the session holds.
    expect(large.list).toEqual({ reads: 1, keysRead: 10, writes: 0, keysWritten: 0, keysDeleted: 0 });
    expect(small.list).toEqual(large.list);
    expect(large.page.next).toBe(10);
  });

  it("drops the oldest at the same cost at a bound of 10 or 100: one more read, one delete of 2 keys", async () => {
    const small = await costAt(10, 10);
    const large = await costAt(100, 100);
    expect(small.added).toEqual({ reads: 2, keysRead: 1, writes: 2, keysWritten: 3, keysDeleted: 2 });
    expect(large.added).toEqual(small.added);
    expect(small.page).toMatchObject({ next: null });
    expect(small.page.texts.map((text) => JSON.parse(text).runId)).toEqual(
      Array.from({ length: 10 }, (_, index) => `run-${index + 1}`),
    );
  });
});
