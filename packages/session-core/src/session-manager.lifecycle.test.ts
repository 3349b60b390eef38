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
