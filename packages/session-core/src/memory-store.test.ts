import { describe, expect, it } from "vitest";
import { memoryStore } from "./memory-store.js";
import { SessionManager } from "./session-manager.js";
import { createFakeClock } from "./testing/fake-clock.js";
import { describeSessionStore } from "./testing/index.js";

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

  it("sweeps in the background with an unref'd timer that dispose stops", async () => {
    let time = 0;
    const store = memoryStore({ sweepInterval: 0.01, now: () => time });
    const sessions = new SessionManager({ store, now: () => time, inactivityTimeout: 1 });
    await sessions.getOrCreateSession("user");
    time = 5_000;
    await new Promise((resolve) => setTimeout(resolve, 50)); // a real timer is what is under test
    expect(store.size).toBe(0);
    await store.dispose();
    await sessions.getOrCreateSession("user");
    time = 10_000;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(store.size).toBe(1);
  });

  it("rejects bad options with INVALID_OPTION", () => {
    expect(() => memoryStore({ maxSessions: 0 })).toThrow(expect.objectContaining({ code: "INVALID_OPTION" }));
    expect(() => memoryStore({ sweepInterval: -1 })).toThrow(expect.objectContaining({ code: "INVALID_OPTION" }));
    expect(() => memoryStore({ sweepInterval: Number.NaN })).toThrow(/sweepInterval/);
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
});
