import { describe, expect, it } from "vitest";
import type { ErrorContext } from "./adapter-kit/error-sink.js";
import { SessionError } from "./errors.js";
import { memoryStore } from "./memory-store/index.js";
import { SessionManager } from "./session-manager.js";
import { createFakeClock } from "./testing/fake-clock.js";
import { faultyStore } from "./testing/faulty-store.js";

describe("background cleanup", () => {
  it("keeps a long-running default manager bounded by its live sessions", async () => {
    const clock = createFakeClock();
    const store = memoryStore();
    const sessions = new SessionManager({ store, now: clock.now });
    for (let user = 0; user < 200; user++) await sessions.getOrCreateSession(`user-${user}`);
    clock.advance(3600);
    await sessions.getOrCreateSession("late-user");
    await sessions.flush();
    expect(store.size).toBe(1);
  });

  it("runs at most once per interval, only on stores with sweep, and not at all when off", async () => {
    const clock = createFakeClock();
    const store = faultyStore();
    const sessions = new SessionManager({ store, now: clock.now, cleanupInterval: 30 });
    await sessions.resolve("a"); // schedules the first cleanup for +30 s
    clock.advance(29);
    await sessions.resolve("a");
    expect(store.calls.sweep).toBe(0);
    clock.advance(1);
    await sessions.resolve("a");
    await sessions.resolve("a");
    expect(store.calls.sweep).toBe(1);

    const off = faultyStore();
    const manual = new SessionManager({ store: off, now: clock.now, cleanupInterval: 0 });
    await manual.resolve("a");
    clock.advance(3600);
    await manual.resolve("a");
    expect(off.calls.sweep).toBe(0);
  });

  it("reports a failing cleanup to onError and never fails the resolve", async () => {
    const clock = createFakeClock();
    const store = faultyStore();
    const failures: [Error, ErrorContext][] = [];
    const sessions = new SessionManager({
      store,
      now: clock.now,
      onError: (error, context) => failures.push([error, context]),
    });
    await sessions.resolve("a");
    clock.advance(60);
    store.fail({ operations: ["sweep"] });
    await expect(sessions.resolve("a")).resolves.toMatchObject({ userId: "a", isNew: false });
    await sessions.flush();
    expect(failures).toHaveLength(1);
    expect(failures[0]?.[1]).toEqual({ operation: "cleanup" });
    expect(failures[0]?.[0]).toMatchObject({ code: "STORE_UNAVAILABLE", retryable: true });
  });

  it("refuses a bad cleanupInterval", () => {
    for (const cleanupInterval of [-1, Number.NaN, Number.POSITIVE_INFINITY, "60"]) {
      expect(() => new SessionManager({ cleanupInterval: cleanupInterval as number })).toThrow(
        expect.objectContaining({ code: "INVALID_OPTION" }),
      );
    }
  });
});

describe("store misuse", () => {
  it("names the mistake of passing a factory instead of a store", () => {
    expect(() => new SessionManager({ store: memoryStore as never })).toThrow(/Call the factory: store: memoryStore\(/);
  });

  it("names what a store object is missing", () => {
    expect(() => new SessionManager({ store: "redis" as never })).toThrow(/must be a SessionStore object/);
    const partial = { specificationVersion: "v1", name: "x", capabilities: { atomic: true, exactRenewal: true } };
    expect(() => new SessionManager({ store: partial as never })).toThrow(/missing resolve, touch, get, close/);
  });
});

describe("SessionError fields", () => {
  it("exposes source and whether retrying can help", () => {
    const outage = new SessionError({ code: "STORE_UNAVAILABLE", source: "redis", message: "down" });
    expect(outage).toMatchObject({ source: "redis", retryable: true, message: "[threadline] [redis] down" });
    const input = new SessionError({ code: "INVALID_USER_ID", message: "bad" });
    expect(input).toMatchObject({ source: undefined, retryable: false });
    expect(new SessionError({ code: "STORE_ERROR", message: "x", retryable: true }).retryable).toBe(true);
  });
});

describe("faultyStore", () => {
  it("fails the next N calls of the chosen operations with the chosen code, then recovers", async () => {
    const store = faultyStore();
    const sessions = new SessionManager({ store });
    store.fail({ times: 2, code: "STORE_ERROR", operations: ["resolve"] });
    await expect(sessions.getSessionInfo("a")).resolves.toBeNull();
    await expect(sessions.resolve("a")).rejects.toMatchObject({ code: "STORE_ERROR" });
    await expect(sessions.resolve("a")).rejects.toMatchObject({ code: "STORE_ERROR" });
    await expect(sessions.resolve("a")).resolves.toMatchObject({ isNew: true });
    expect(store.calls).toMatchObject({ resolve: 3, get: 1 });
    store.fail({ code: "bare-error" });
    await expect(sessions.updateActivity("a")).rejects.toMatchObject({ code: "STORE_ERROR" });
    store.recover();
    await expect(sessions.updateActivity("a")).resolves.toBe(true);
  });
});

describe("custom ids", () => {
  it("refuses an id that would not survive UTF-8 (a lone surrogate)", async () => {
    const sessions = new SessionManager({ idFormat: () => "bad-\uD800" });
    await expect(sessions.resolve("a")).rejects.toMatchObject({ code: "INVALID_SESSION_ID" });
  });
});

describe("pendingWork", () => {
  it("counts a cleanup in progress, and flush brings it back to 0", async () => {
    const clock = createFakeClock();
    const store = faultyStore();
    const sessions = new SessionManager({ store, now: clock.now });
    await sessions.resolve("a");
    expect(sessions.pendingWork).toBe(0);
    clock.advance(60);
    const resolved = sessions.resolve("a");
    expect(sessions.pendingWork).toBe(1);
    await resolved;
    await sessions.flush();
    expect(sessions.pendingWork).toBe(0);
  });
});

describe("faultyStore.hold", () => {
  it("holds the chosen operations until released", async () => {
    const store = faultyStore();
    const sessions = new SessionManager({ store });
    const release = store.hold({ operations: ["resolve"] });
    let resolved = false;
    const pending = sessions.resolve("a").then(() => {
      resolved = true;
    });
    await expect(sessions.getSessionInfo("a")).resolves.toBeNull(); // get is not held
    expect(resolved).toBe(false);
    release();
    await pending;
    expect(resolved).toBe(true);
  });
});
