import { env, runInDurableObject } from "cloudflare:test";
import { type ResolvedSession, type ResolveRequest, SessionManager } from "@threadline/session-core";
import { createFakeClock, type FakeClock, uniqueNamespace } from "@threadline/session-core/testing";
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

const store = () => durableObjectStore({ namespace: env.SESSION_OBJECTS, keyPrefix });

async function objectOf(userId: string): Promise<DurableObjectStubLike> {
  const name = await sessionKey(keyPrefix, namespace, userId);
  return env.SESSION_OBJECTS.get(env.SESSION_OBJECTS.idFromName(name));
}

async function storedKeys(userId: string): Promise<string[]> {
  return runInDurableObject(await objectOf(userId), async (_, state) => [...(await state.storage.list()).keys()]);
}

function resolveRequest(userId: string, overrides: Partial<ResolveRequest> = {}): ResolveRequest {
  return {
    namespace,
    userId,
    now: clock.now(),
    timeoutMs: 120_000,
    forceNew: false,
    retentionMs: 0,
    proposeSessionId: () => `${namespace}-${userId}-${clock.now()}`,
    ...overrides,
  };
}

describe("cost of an item change (storage calls and keys, counted at the object's storage)", () => {
  /**
   * Fills a session with `history` items (pairs, one operation id each, like webhook turns), then
   * counts one more 2-item append with an operation id, and reading the last 4.
   */
  async function costAt(history: number, maxItems: number | null) {
    const stub = await objectOf(`cost-${history}-${maxItems}`);
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
      const append = (index: number) =>
        send({
          op: "apply",
          sessionId,
          now,
          change: {
            type: "append",
            texts: [`"question ${index}"`, `"answer ${index}"`],
            expectedSuffix: [],
            continuesGroup: false,
            fingerprint: `f${index}`,
          },
          operationId: `op-${index}`,
          operationKey: `=op-${index}`,
          maxItems,
          maxItemBytes: null,
        });
      for (let index = 0; index < history / 2; index++) await append(index);
      const appendCounts: KeyCounts = { ...zeroCounts() };
      Object.assign(counts, zeroCounts());
      const result = await append(history);
      Object.assign(appendCounts, counts);
      Object.assign(counts, zeroCounts());
      const last = await send<string[]>({ op: "list", sessionId, now, limit: 4 });
      return { append: appendCounts, result, list: { ...counts }, last };
    });
  }

  it("appends at the same cost with 10 or 1,000 items in the history: O(new items)", async () => {
    const small = await costAt(10, null);
    const large = await costAt(1_000, null);
    expect(small.result).toEqual({ applied: true, trimmed: 0 });
    expect(large.result).toEqual({ applied: true, trimmed: 0 });
    // One read (the operation id), one put: 2 items, their group's record, the operation id and
    // its order record, the session's value.
    expect(small.append).toEqual({ reads: 1, keysRead: 0, writes: 1, keysWritten: 6, keysDeleted: 0 });
    expect(large.append).toEqual(small.append);
    // Reading the last 4 lists 4 keys, whatever the length.
    expect(large.list).toEqual({ reads: 1, keysRead: 4, writes: 0, keysWritten: 0, keysDeleted: 0 });
    expect(small.list).toEqual(large.list);
    expect(large.last).toEqual(['"question 499"', '"answer 499"', '"question 1000"', '"answer 1000"']);
  });

  it("trims at the same cost with 10 or 1,000 items kept: one group read and deleted", async () => {
    const small = await costAt(10, 10);
    const large = await costAt(1_000, 1_000);
    expect(small.result).toEqual({ applied: true, trimmed: 2 });
    expect(large.result).toEqual({ applied: true, trimmed: 2 });
    // The operation id, then the oldest group's record; one delete of its 2 items and record, one
    // put as above.
    expect(large.append).toEqual({ reads: 2, keysRead: 1, writes: 2, keysWritten: 6, keysDeleted: 3 });
    expect(small.append).toEqual(large.append);
  });

  it("drops the oldest operation id past the latest 1,000: one read and two keys more, at 2,002 or 10,000 items", async () => {
    const full = await costAt(2_002, null); // 1,001 operation ids before the measured one
    const huge = await costAt(10_000, null);
    expect(full.append).toEqual({ reads: 2, keysRead: 1, writes: 2, keysWritten: 6, keysDeleted: 2 });
    expect(huge.append).toEqual(full.append);
    expect(huge.list).toEqual({ reads: 1, keysRead: 4, writes: 0, keysWritten: 0, keysDeleted: 0 });
  }, 60_000);
});

describe("idempotent appends across Workers", () => {
  it("appends a redelivered message once, whichever Worker gets it and however often", async () => {
    const session = await new SessionManager({ store: store(), now: clock.now, namespace }).resolve("user");
    // Each delivery is its own Worker request: its own store and manager.
    const deliver = () =>
      new SessionManager({ store: store(), now: clock.now, namespace }).addItems(
        session,
        [{ role: "user", content: "hi" }],
        { operationId: "wamid.HBgM" },
      );
    await Promise.all(Array.from({ length: 10 }, deliver));
    await deliver();
    const sessions = new SessionManager({ store: store(), now: clock.now, namespace });
    expect(await sessions.getItems(session)).toEqual([{ role: "user", content: "hi" }]);
    expect((await storedKeys("user")).filter((key) => key.startsWith("item:"))).toEqual(["item:000000000000"]);
  });

  it("keys a very long operation id by its hash, still once", async () => {
    const sessions = new SessionManager({ store: store(), now: clock.now, namespace });
    const session = await sessions.resolve("user");
    const long = `op-${"é".repeat(3000)}`;
    await sessions.addItems(session, ["once"], { operationId: long });
    await sessions.addItems(session, ["once"], { operationId: long });
    await expect(sessions.addItems(session, ["other"], { operationId: long })).rejects.toMatchObject({
      code: "OPERATION_CONFLICT",
    });
    expect(await sessions.getItems(session)).toEqual(["once"]);
    expect((await storedKeys("user")).some((key) => key.startsWith("aux:op:#"))).toBe(true);
  });
});

describe("carry-over", () => {
  const hourMs = 3_600_000;

  it("hands an ended session's items to exactly one of two concurrent resolves, then deletes them", async () => {
    const first = await store().resolve(resolveRequest("user", { carryOverMs: hourMs }));
    await store().items.append({ ...first, now: clock.now() }, ["my name is Ana", "hi Ana"]);
    await store().close({ namespace, userId: "user", now: clock.now(), retentionMs: 0, carryOverMs: hourMs });
    clock.advance(5);
    const [a, b] = await Promise.all([
      store().resolve(resolveRequest("user", { carryOverMs: hourMs })),
      store().resolve(resolveRequest("user", { carryOverMs: hourMs })),
    ]);
    const carried = [a, b].flatMap((resolved) => (resolved.carried === undefined ? [] : [resolved.carried]));
    expect(carried).toEqual([{ sessionId: first.sessionId, items: ["my name is Ana", "hi Ana"] }]);
    expect(a.sessionId).toBe(b.sessionId);
    expect((await storedKeys("user")).filter((key) => key !== "session")).toEqual([]);
  });

  it("hands them out once when the concurrent resolves themselves end the expired session", async () => {
    const first = await store().resolve(resolveRequest("user", { carryOverMs: hourMs }));
    await store().items.append({ ...first, now: clock.now() }, ["old"]);
    clock.advance(600);
    const results = await Promise.all(
      Array.from({ length: 5 }, () => store().resolve(resolveRequest("user", { carryOverMs: hourMs }))),
    );
    const carrying = results.filter((resolved: ResolvedSession) => resolved.carried !== undefined);
    expect(carrying.map((resolved) => resolved.carried)).toEqual([{ sessionId: first.sessionId, items: ["old"] }]);
    expect(results.filter((resolved) => resolved.ended !== undefined)).toHaveLength(1);
  });

  it("seeds the next session through the manager after a sweep claimed the end, once across two managers", async () => {
    const seeds: unknown[][] = [];
    const manager = () =>
      new SessionManager({
        store: store(),
        now: clock.now,
        namespace,
        cleanupInterval: 0,
        carryOver: {
          within: 3600,
          seed: ({ items }) => {
            seeds.push(items);
            return [{ role: "system", content: `summary of ${items.length}` }];
          },
        },
      });
    const first = await manager().resolve("user");
    await manager().addItems(first, ["a", "b"], { operationId: "turn-1" });
    clock.advance(121);
    expect(await manager().cleanupExpired()).toBe(1);
    const [one, two] = await Promise.all([manager().resolve("user"), manager().resolve("user")]);
    expect(one.sessionId).toBe(two.sessionId);
    expect(seeds).toEqual([["a", "b"]]);
    expect(await manager().getItems(one)).toEqual([{ role: "system", content: "summary of 2" }]);
    // The new session starts with no operation ids: the old turn's id appends again.
    await manager().addItems(one, ["a"], { operationId: "turn-1" });
    expect(await manager().getItems(one)).toHaveLength(2);
  });

  it("keeps an expired session's items past its expiry for the carry-over its resolve asked for, then drops them", async () => {
    const stub = await objectOf("user");
    await runInDurableObject(stub, async (_, state) => {
      const { object, send } = await directObject(state.storage, clock.now);
      const resolve = (forceNew: boolean) =>
        send<{ sessionId: string; carried?: { texts: string[] } }>({
          op: "resolve",
          namespace,
          userId: "user",
          now: clock.now(),
          timeoutMs: 120_000,
          forceNew,
          candidate: `c-${clock.now()}`,
          retentionMs: 0,
          carryOverMs: 600_000,
          maxDurationMs: null,
          maxTurns: null,
        });
      const append = (sessionId: string, texts: string[]) =>
        send({ op: "append", sessionId, now: clock.now(), items: texts });
      const keys = async () => [...(await state.storage.list()).keys()].filter((key) => key !== "session");

      const first = await resolve(false);
      await append(first.sessionId, ['"kept"']);
      clock.advance(121);
      await object.alarm(); // at expiry: the end is unclaimed, the items wait for the carry-over
      expect(await keys()).toEqual(["aux:group:000000000000", "item:000000000000"]);
      const second = await resolve(false);
      expect(second.carried?.texts).toEqual(['"kept"']);
      expect(await keys()).toEqual([]);

      await append(second.sessionId, ['"late"']);
      clock.advance(120 + 600);
      await object.alarm(); // past the expiry and the carry-over: gone
      expect(await keys()).toEqual([]);
      expect((await resolve(false)).carried).toBeUndefined();
    });
  });

  it("drops carried items nobody took when their time runs out", async () => {
    const stub = await objectOf("user");
    await runInDurableObject(stub, async (_, state) => {
      const { object, send } = await directObject(state.storage, clock.now);
      const now = clock.now();
      const { sessionId } = await send<{ sessionId: string }>({
        op: "resolve",
        namespace,
        userId: "user",
        now,
        timeoutMs: 120_000,
        forceNew: false,
        candidate: "c",
        retentionMs: 0,
        maxDurationMs: null,
        maxTurns: null,
      });
      await send({ op: "append", sessionId, now, items: ['"x"'] });
      await send({ op: "close", now, sessionId: null, retentionMs: 0, carryOverMs: 300_000 });
      expect([...(await state.storage.list({ prefix: "item:" })).keys()]).toHaveLength(1);
      clock.advance(300);
      await object.alarm();
      expect([...(await state.storage.list()).keys()]).toEqual([]);
    });
  });

  it("forgetUser deletes carried items and operation ids: no storage key left", async () => {
    const sessions = new SessionManager({
      store: store(),
      now: clock.now,
      namespace,
      retention: 3600,
      carryOver: { seed: () => undefined },
    });
    const first = await sessions.resolve("user");
    await sessions.addItems(first, ["private"], { operationId: "op-1" });
    await sessions.closeSession("user"); // kept for carry-over
    expect((await storedKeys("user")).sort()).toEqual(["history:000000000001", "item:000000000000", "session"]);
    expect(await sessions.forgetUser("user")).toBe(1);
    expect(await storedKeys("user")).toEqual([]);

    const live = await sessions.resolve("user");
    await sessions.addItems(live, ["private"], { operationId: "op-2" });
    expect((await storedKeys("user")).some((key) => key.startsWith("aux:op:"))).toBe(true);
    await sessions.forgetUser("user");
    expect(await storedKeys("user")).toEqual([]);
  });

  it("never carries without carry-over: the next session starts empty and the old items are gone", async () => {
    const sessions = new SessionManager({ store: store(), now: clock.now, namespace });
    const first = await sessions.resolve("user");
    await sessions.addItems(first, ["private"], { operationId: "op" });
    const second = await sessions.resolve("user", undefined, { forceNew: true });
    expect(await sessions.getItems(second)).toEqual([]);
    expect(await storedKeys("user")).toEqual(["session"]);
  });
});

describe("pop and clear keep the record right", () => {
  it("pops across a group boundary and trims by the remaining groups", async () => {
    const sessions = new SessionManager({ store: store(), now: clock.now, namespace, maxItems: 4 });
    const session = await sessions.resolve("user");
    await sessions.addItems(session, ["q1", "a1"]);
    await sessions.addItems(session, ["q2"]);
    expect(await sessions.popItem(session)).toBe("q2"); // empties the newest group
    await sessions.addItems(session, ["x"], { continuesGroup: true }); // joins q1's group again
    expect(await sessions.getItems(session)).toEqual(["q1", "a1", "x"]);
    expect(await sessions.changeItems(session, { type: "append", items: ["q3", "a3"] })).toEqual({
      applied: true,
      trimmed: 3,
    });
    expect(await sessions.getItems(session)).toEqual(["q3", "a3"]);
    await sessions.clearItems(session);
    expect(await storedKeys("user")).toEqual(["session"]);
  });
});
