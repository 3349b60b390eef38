import { describe, expect, it } from "vitest";
import { memoryStore } from "./memory-store/index.js";
import { SessionManager } from "./session-manager.js";
import type { SessionEndEvent } from "./store.js";
import { MAX_HISTORY_PER_USER } from "./store-kit/history.js";
import { createFakeClock } from "./testing/fake-clock.js";
import { faultyStore } from "./testing/faulty-store.js";

describe("lifecycle options", () => {
  it.each([
    [{ maxDuration: 0 }, /maxDuration/],
    [{ maxDuration: Number.POSITIVE_INFINITY }, /maxDuration/],
    [{ maxDuration: "60" }, /maxDuration/],
    [{ maxTurns: 0 }, /maxTurns/],
    [{ maxTurns: 2.5 }, /maxTurns/],
    [{ retention: -1 }, /retention/],
    [{ retention: Number.NaN }, /retention/],
    [{ onSessionEnd: "log" }, /onSessionEnd must be a function/],
    [{ onSessionStart: {} }, /onSessionStart must be a function/],
  ])("rejects %o with INVALID_OPTION", (options, message) => {
    expect(() => new SessionManager(options as never)).toThrow(message);
    expect(() => new SessionManager(options as never)).toThrow(expect.objectContaining({ code: "INVALID_OPTION" }));
  });

  it("rejects a bad listSessions status and unsupported stores with clear codes", async () => {
    const sessions = new SessionManager();
    await expect(sessions.listSessions({ status: "expired" as never })).rejects.toMatchObject({
      code: "INVALID_OPTION",
    });
    await expect(sessions.listSessions({ userId: "" })).rejects.toMatchObject({ code: "INVALID_USER_ID" });
    const store = memoryStore();
    const bare = new SessionManager({
      store: { ...store, forget: undefined, list: undefined, resolve: store.resolve, capabilities: store.capabilities },
    });
    await expect(bare.forgetUser("user")).rejects.toMatchObject({ code: "UNSUPPORTED" });
    await expect(bare.listSessions()).rejects.toMatchObject({ code: "UNSUPPORTED" });
  });
});

describe("end events", () => {
  it("are never awaited by resolve: a callback that never settles does not hold a call", async () => {
    const clock = createFakeClock();
    const sessions = new SessionManager({
      now: clock.now,
      cleanupInterval: 0,
      onSessionStart: () => new Promise(() => {}),
      onSessionEnd: () => new Promise(() => {}),
    });
    await sessions.resolve("user");
    clock.advance(120);
    expect((await sessions.resolve("user")).isNew).toBe(true);
    expect(sessions.pendingWork).toBe(3);
  });

  it("reach onError when the store fails a cleanup, and no end is invented", async () => {
    const clock = createFakeClock();
    const store = faultyStore();
    const ends: SessionEndEvent[] = [];
    const sessions = new SessionManager({ store, now: clock.now, onSessionEnd: (end) => void ends.push(end) });
    await sessions.resolve("user");
    clock.advance(120);
    store.fail({ times: 1, operations: ["sweep"] });
    await expect(sessions.cleanupExpired()).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
    expect(await sessions.cleanupExpired()).toBe(1);
    await sessions.flush();
    expect(ends.map((end) => end.reason)).toEqual(["expired"]);
  });

  it("run from the background cleanup, on the manager's schedule", async () => {
    const clock = createFakeClock();
    const ends: SessionEndEvent[] = [];
    const sessions = new SessionManager({
      now: clock.now,
      cleanupInterval: 60,
      onSessionEnd: (end) => void ends.push(end),
    });
    await sessions.resolve("quiet");
    clock.advance(121);
    await sessions.resolve("other"); // schedules the first cleanup
    clock.advance(60);
    await sessions.resolve("other"); // runs it
    await sessions.flush();
    expect(ends.map((end) => [end.session.userId, end.reason])).toEqual([["quiet", "expired"]]);
  });
});

describe("memory store lifecycle", () => {
  it("reports sessions evicted by maxSessions, and keeps them out of the caller's session", async () => {
    const clock = createFakeClock();
    const ends: SessionEndEvent[] = [];
    const sessions = new SessionManager({
      store: memoryStore({ maxSessions: 1 }),
      now: clock.now,
      onSessionEnd: (end) => void ends.push(end),
    });
    const first = await sessions.resolve("a");
    clock.advance(1);
    const second = await sessions.resolve("b");
    expect(second).not.toHaveProperty("evicted");
    await sessions.flush();
    expect(ends).toEqual([
      { session: expect.objectContaining({ sessionId: first.sessionId }), reason: "evicted", endedAt: clock.now() },
    ]);
  });

  it("bounds a user's history, however many sessions a client forces", async () => {
    const clock = createFakeClock();
    const sessions = new SessionManager({ now: clock.now, retention: 86_400 });
    for (let index = 0; index < MAX_HISTORY_PER_USER + 50; index++) {
      await sessions.resolve("hostile", undefined, { forceNew: true });
    }
    const ended = await sessions.listSessions({ userId: "hostile", status: "ended", limit: 5000 });
    expect(ended.sessions).toHaveLength(MAX_HISTORY_PER_USER);
  });

  it("frees history once its retention has passed: nothing of the pair is left", async () => {
    const clock = createFakeClock();
    const store = memoryStore();
    const sessions = new SessionManager({ store, now: clock.now, retention: 30, cleanupInterval: 0 });
    for (let index = 0; index < 50; index++) await sessions.resolve(`user-${index}`);
    clock.advance(120);
    expect(await sessions.cleanupExpired()).toBe(50);
    expect(store.size).toBe(50); // kept for their history
    expect((await sessions.listSessions({ status: "ended", limit: 1000 })).sessions).toHaveLength(50);
    clock.advance(30);
    expect(await sessions.cleanupExpired()).toBe(0);
    expect(store.size).toBe(0);
    expect((await sessions.listSessions({ status: "all" })).sessions).toEqual([]);
  });

  it("forgets a user completely: the store holds nothing of the pair", async () => {
    const clock = createFakeClock();
    const store = memoryStore();
    const sessions = new SessionManager({ store, now: clock.now, retention: 3600 });
    const session = await sessions.resolve("user");
    await sessions.addItems(session, ["private"]);
    await sessions.resolve("user", undefined, { forceNew: true });
    expect(store.size).toBe(1);
    expect(await sessions.forgetUser("user")).toBe(2);
    expect(store.size).toBe(0);
    // An old holder cannot reach the next session of the pair, even within the same second.
    const next = await sessions.resolve("user");
    expect(next.sessionId).not.toBe(session.sessionId);
    await expect(sessions.addItems(session, ["late"])).rejects.toMatchObject({ code: "SESSION_ENDED" });
  });

  it("pages a namespace whose users have more sessions than a page holds", async () => {
    const clock = createFakeClock();
    const sessions = new SessionManager({ now: clock.now, retention: 3600, namespace: "ns" });
    const ids = new Set<string>();
    for (const user of ["a", "b", "c"]) {
      for (let index = 0; index < 7; index++) {
        ids.add((await sessions.resolve(user, undefined, { forceNew: index > 0 })).sessionId);
      }
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await sessions.listSessions({
        namespace: "ns",
        status: "all",
        limit: 4,
        ...(cursor ? { cursor } : {}),
      });
      expect(page.sessions.length).toBeLessThanOrEqual(4);
      seen.push(...page.sessions.map((session) => session.sessionId));
      cursor = page.cursor;
    } while (cursor !== undefined);
    expect(seen.sort()).toEqual([...ids].sort());
  });
});

describe("order with the background cleanup", () => {
  it("delivers the end with the resolve that replaced it, before the new start, when a cleanup comes due on that call", async () => {
    const clock = createFakeClock();
    const events: string[] = [];
    const sessions = new SessionManager({
      now: clock.now,
      onSessionStart: ({ session, previousSessionId }) =>
        void events.push(`start ${session.sessionId} after ${previousSessionId}`),
      onSessionEnd: ({ session, reason }) => void events.push(`end ${session.sessionId} ${reason}`),
    });
    const first = await sessions.resolve("u"); // schedules the first cleanup 60 s later
    clock.advance(121); // the cleanup is due on the next resolve, which also replaces the expired session
    const second = await sessions.resolve("u");
    await sessions.flush();
    expect(second.previousSessionId).toBe(first.sessionId);
    expect(events).toEqual([
      `start ${first.sessionId} after undefined`,
      `end ${first.sessionId} expired`,
      `start ${second.sessionId} after ${first.sessionId}`,
    ]);
  });
});

describe("carry-over", () => {
  function carrying(overrides: { seed?: (context: { items: unknown[]; previousSessionId: string }) => unknown } = {}) {
    const clock = createFakeClock();
    const seeds: Array<{ items: unknown[]; previousSessionId: string }> = [];
    const failures: string[] = [];
    const sessions = new SessionManager({
      now: clock.now,
      cleanupInterval: 0,
      carryOver: {
        within: 3600,
        seed:
          (overrides.seed as never) ??
          ((context) => {
            seeds.push({ items: context.items, previousSessionId: context.previousSessionId });
            return [{ role: "system", content: `summary of ${context.items.length} items` }];
          }),
      },
      onError: (error, context) => void failures.push(`${context.operation}: ${error.message}`),
    });
    return { clock, sessions, seeds, failures };
  }

  it("seeds the next session from the ended one's items, handed out once, before resolve returns", async () => {
    const { clock, sessions, seeds } = carrying();
    const first = await sessions.resolve("user");
    await sessions.addItems(first, ["my name is Ana", "hi Ana"]);
    clock.advance(600);
    const second = await sessions.resolve("user");
    expect(second).not.toHaveProperty("carried");
    expect(seeds).toEqual([{ items: ["my name is Ana", "hi Ana"], previousSessionId: first.sessionId }]);
    expect(await sessions.getItems(second)).toEqual([{ role: "system", content: "summary of 2 items" }]);
    await sessions.closeSession("user");
    const third = await sessions.resolve("user");
    // The summary was carried once more (it was the second session's items); the first session's are gone.
    expect(seeds.map((seed) => seed.previousSessionId)).toEqual([first.sessionId, second.sessionId]);
    expect(await sessions.getItems(third)).toEqual([{ role: "system", content: "summary of 1 items" }]);
  });

  it("forgets carried items after `within`, and never crosses sessions without carryOver", async () => {
    const { clock, sessions, seeds } = carrying();
    const first = await sessions.resolve("user");
    await sessions.addItems(first, ["old"]);
    clock.advance(120 + 3600);
    expect(await sessions.getItems(await sessions.resolve("user"))).toEqual([]);
    expect(seeds).toEqual([]);

    const plain = new SessionManager({ now: clock.now });
    const session = await plain.resolve("user");
    await plain.addItems(session, ["private"]);
    const next = await plain.resolve("user", undefined, { forceNew: true });
    expect(await plain.getItems(next)).toEqual([]);
  });

  it("never fails the resolve when seed throws: onError gets it and the session starts empty", async () => {
    const { clock, sessions, failures } = carrying({
      seed: () => {
        throw new Error("summarizer down");
      },
    });
    const first = await sessions.resolve("user");
    await sessions.addItems(first, ["old"]);
    clock.advance(120);
    const second = await sessions.resolve("user");
    expect(second.isNew).toBe(true);
    expect(await sessions.getItems(second)).toEqual([]);
    expect(failures).toEqual(["carryOver: summarizer down"]);
  });

  it("refuses carryOver on a store that cannot keep ended items", () => {
    const store = memoryStore();
    const items = { ...store.items, apply: undefined };
    expect(() => new SessionManager({ store: { ...store, items }, carryOver: { seed: () => [] } })).toThrow(
      expect.objectContaining({ code: "INVALID_OPTION" }),
    );
    expect(() => new SessionManager({ carryOver: { seed: "summary" } as never })).toThrow(/carryOver/);
  });
});
