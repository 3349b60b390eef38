import { describe, expect, it } from "vitest";
import { SessionManager } from "../session-manager.js";
import { createFakeClock } from "../testing/fake-clock.js";
import { describeSessionStore } from "../testing/index.js";
import { memoryStore } from "./index.js";

describeSessionStore("memory", { createStore: () => memoryStore(), propertyRuns: 200 });

describe("memoryStore", () => {
  it("evicts the least recently active session when maxSessions is reached", async () => {
    const clock = createFakeClock();
    const store = memoryStore({ maxSessions: 2 });
    const sessions = new SessionManager({ store, now: clock.now });
    await sessions.getOrCreateSession("a");
    clock.advance(1);
    await sessions.getOrCreateSession("b");
    clock.advance(1);
    await sessions.getOrCreateSession("a"); // a is now more recent than b
    await sessions.getOrCreateSession("c");
    expect(store.size).toBe(2);
    expect(await sessions.getSessionInfo("b")).toBeNull();
    expect(await sessions.getSessionInfo("a")).not.toBeNull();
    expect(await sessions.getSessionInfo("c")).not.toBeNull();
  });

  it("frees swept sessions and their namespaces", async () => {
    const clock = createFakeClock();
    const store = memoryStore();
    const sessions = new SessionManager({ store, now: clock.now, inactivityTimeout: 10 });
    for (let index = 0; index < 100; index++) await sessions.getOrCreateSession(`user-${index}`, `ns-${index % 3}`);
    expect(store.size).toBe(100);
    clock.advance(10);
    expect(await sessions.cleanupExpired()).toBe(100);
    expect(store.size).toBe(0);
    expect((await store.list({ now: clock.now() })).sessions).toEqual([]);
  });

  it("rejects bad options with INVALID_OPTION", () => {
    expect(() => memoryStore({ maxSessions: 0 })).toThrow(expect.objectContaining({ code: "INVALID_OPTION" }));
    expect(() => memoryStore({ maxSessions: Number.NaN })).toThrow(/maxSessions/);
  });

  it("copies items in and out so later mutations do not leak into the store", async () => {
    const sessions = new SessionManager();
    const session = await sessions.resolve("user");
    const item = { content: "hi" };
    await sessions.addItems(session, [item]);
    item.content = "changed";
    const [stored] = (await sessions.getItems(session)) as [{ content: string }];
    stored.content = "changed again";
    expect(await sessions.getItems(session)).toEqual([{ content: "hi" }]);
  });

  describe("never hands a pair an id twice", () => {
    it("after eviction, even within the same second", async () => {
      const clock = createFakeClock();
      const sessions = new SessionManager({ store: memoryStore({ maxSessions: 1 }), now: clock.now });
      const first = await sessions.resolve("a");
      await sessions.resolve("b"); // evicts a
      const second = await sessions.resolve("a"); // evicts b; same second as the first
      expect(second.sessionId).not.toBe(first.sessionId);
      // Whatever still holds the old session cannot touch the new one.
      expect(await sessions.closeSession("a", undefined, { sessionId: first.sessionId })).toBe(false);
      await expect(sessions.addItems(first, ["late"])).rejects.toMatchObject({ code: "SESSION_ENDED" });
      expect(await sessions.getSessionInfo("a")).toMatchObject({ sessionId: second.sessionId });
    });

    it("after a sweep of a sub-second session", async () => {
      const clock = createFakeClock();
      const sessions = new SessionManager({ now: clock.now, inactivityTimeout: 0.2, cleanupInterval: 0 });
      const seen = new Set<string>();
      for (let round = 0; round < 4; round++) {
        seen.add(await sessions.getOrCreateSession("a"));
        clock.advance(0.25);
        await sessions.cleanupExpired();
      }
      expect(seen.size).toBe(4); // all within the first second of the fake clock
    });

    it("after eviction storms across many pairs", async () => {
      const clock = createFakeClock();
      const sessions = new SessionManager({ store: memoryStore({ maxSessions: 3 }), now: clock.now });
      const seen = new Map<string, Set<string>>();
      for (let step = 0; step < 200; step++) {
        const user = `user-${step % 7}`;
        const id = await sessions.getOrCreateSession(user, undefined, { forceNew: step % 5 === 0 });
        const ids = seen.get(user) ?? new Set();
        // Consecutive resolves of a live session return the same id; a new session never reuses one.
        if (!ids.has(id)) ids.add(id);
        seen.set(user, ids);
        if (step % 13 === 0) clock.advance(0.4);
      }
      const all = [...seen.values()].flatMap((ids) => [...ids]);
      expect(new Set(all).size).toBe(all.length);
    });
  });

  describe("items", () => {
    it("refuses a sparse array whole and keeps the session readable", async () => {
      const sessions = new SessionManager();
      const session = await sessions.resolve("user");
      await sessions.addItems(session, ["kept"]);
      // biome-ignore lint/suspicious/noSparseArray: the hole is what is under test
      const sparse = [1, , 3];
      await expect(sessions.addItems(session, sparse)).rejects.toMatchObject({ code: "INVALID_ITEMS" });
      expect(await sessions.getItems(session)).toEqual(["kept"]);
    });

    it("takes one batch of 150,000 items and any whole-number limit, with the bounds lifted", async () => {
      const sessions = new SessionManager({
        maxItems: Number.POSITIVE_INFINITY,
        maxItemBytes: Number.POSITIVE_INFINITY,
      });
      const session = await sessions.resolve("user");
      await sessions.addItems(session, ["first"]);
      await sessions.addItems(
        session,
        Array.from({ length: 150_000 }, (_, index) => index),
      );
      expect(await sessions.getItems(session, 2)).toEqual([149_998, 149_999]);
      expect(await sessions.getItems(session, 1e21)).toHaveLength(150_001);
      expect(await sessions.getItems(session, Number.POSITIVE_INFINITY)).toHaveLength(150_001);
      expect(await sessions.getItems(session, 0)).toEqual([]);
    });
  });

  describe("list", () => {
    async function filled(count: number, namespaces = ["ns"]) {
      const clock = createFakeClock();
      const store = memoryStore();
      const sessions = new SessionManager({ store, now: clock.now, cleanupInterval: 0 });
      for (let index = 0; index < count; index++) {
        await sessions.getOrCreateSession(`user-${index}`, namespaces[index % namespaces.length]);
      }
      return { clock, store, sessions };
    }

    async function listAll(store: ReturnType<typeof memoryStore>, now: number, limit: number, namespace?: string) {
      const users: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.list({
          now,
          limit,
          ...(cursor === undefined ? {} : { cursor }),
          ...(namespace === undefined ? {} : { namespace }),
        });
        expect(page.sessions.length).toBeLessThanOrEqual(limit);
        users.push(...page.sessions.map((session) => `${session.namespace}/${session.userId}`));
        cursor = page.cursor;
        pages++;
        expect(pages).toBeLessThan(10_000);
      } while (cursor !== undefined);
      return users;
    }

    it("rejects limits and cursors it did not hand out", async () => {
      const { store, clock } = await filled(3);
      const now = clock.now();
      for (const limit of [0, -1, 1.5, Number.NaN]) {
        await expect(store.list({ now, limit })).rejects.toMatchObject({ code: "INVALID_OPTION" });
      }
      for (const cursor of ["abc", "-1", "5", "[]", '[1,"ns",-3,"x"]', "null"]) {
        await expect(store.list({ now, cursor })).rejects.toMatchObject({ code: "INVALID_OPTION" });
      }
    });

    it("returns every live session once, across namespaces and page boundaries", async () => {
      const { store, clock } = await filled(250, ["a", "b", "c"]);
      for (const limit of [1, 7, 83, 250, 1000]) {
        const users = await listAll(store, clock.now(), limit);
        expect(users).toHaveLength(250);
        expect(new Set(users).size).toBe(250);
      }
      expect(await listAll(store, clock.now(), 10, "b")).toHaveLength(83);
    });

    it("resumes after the cursor's session was swept meanwhile", async () => {
      const { store, sessions, clock } = await filled(10);
      const first = await store.list({ now: clock.now(), limit: 3 });
      clock.advance(60);
      // Renew all but user-2 (the cursor's session), then let user-2 expire and sweep it.
      for (const index of [0, 1, 3, 4, 5, 6, 7, 8, 9]) await sessions.getOrCreateSession(`user-${index}`, "ns");
      clock.advance(61);
      expect(await sessions.cleanupExpired()).toBe(1);
      const rest = await listAll(store, clock.now(), 100);
      expect(rest).toHaveLength(9);
      const next = await store.list({ now: clock.now(), limit: 100, cursor: first.cursor ?? "" });
      expect(next.sessions.map((session) => session.userId)).toEqual(
        [3, 4, 5, 6, 7, 8, 9].map((index) => `user-${index}`),
      );
    });
  });
});
