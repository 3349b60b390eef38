import { describe, expect, it } from "vitest";
import { SessionError } from "./errors.js";
import { memoryStore } from "./memory-store/index.js";
import { SessionManager } from "./session-manager.js";
import type { SessionStore } from "./store.js";
import { createFakeClock } from "./testing/fake-clock.js";
import { invalidUserIds } from "./testing/hostile-ids.js";

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return SessionError.isInstance(error) ? error.code : `not a SessionError: ${String(error)}`;
  }
  return undefined;
}

async function rejectionCode(promise: Promise<unknown>): Promise<string | undefined> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  return SessionError.isInstance(error) ? error.code : undefined;
}

describe("SessionManager options", () => {
  it("defaults to a 120 s timeout and the 'default' namespace", async () => {
    const clock = createFakeClock();
    const sessions = new SessionManager({ now: clock.now });
    expect(sessions.inactivityTimeout).toBe(120);
    expect(await sessions.getOrCreateSession("user-123")).toBe("default-user-123-20250107-120000");
  });

  it("reproduces the guide's id for namespace support", async () => {
    const sessions = new SessionManager({ namespace: "support", now: createFakeClock().now });
    expect(await sessions.getOrCreateSession("user-123")).toBe("support-user-123-20250107-120000");
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY, "120", null])(
    "rejects inactivityTimeout %s with INVALID_TIMEOUT",
    (inactivityTimeout) => {
      expect(codeOf(() => new SessionManager({ inactivityTimeout: inactivityTimeout as number }))).toBe(
        "INVALID_TIMEOUT",
      );
    },
  );

  it("accepts fractional timeouts", async () => {
    const clock = createFakeClock();
    const sessions = new SessionManager({ inactivityTimeout: 0.5, now: clock.now });
    const first = await sessions.getOrCreateSession("user");
    clock.advance(0.499);
    expect(await sessions.getOrCreateSession("user")).toBe(first);
    clock.advance(0.5);
    expect(await sessions.getOrCreateSession("user")).not.toBe(first);
  });

  it("rejects a bad default namespace, idFormat, clock or store version", () => {
    expect(codeOf(() => new SessionManager({ namespace: " " }))).toBe("INVALID_NAMESPACE");
    expect(codeOf(() => new SessionManager({ idFormat: "short" as "uuid" }))).toBe("INVALID_OPTION");
    expect(codeOf(() => new SessionManager({ now: 5 as unknown as () => number }))).toBe("INVALID_OPTION");
    const oldStore = { ...memoryStore(), specificationVersion: "v0" } as unknown as SessionStore;
    expect(codeOf(() => new SessionManager({ store: oldStore }))).toBe("INVALID_OPTION");
  });

  it("exposes its clock so adapters record times that agree with sessions", () => {
    const clock = createFakeClock();
    const sessions = new SessionManager({ now: clock.now });
    clock.advance(42);
    expect(sessions.now()).toBe(clock.now());
  });

  it("rejects a clock that returns something other than a finite number", async () => {
    const sessions = new SessionManager({ now: () => Number.NaN });
    expect(await rejectionCode(sessions.resolve("user"))).toBe("INVALID_OPTION");
  });
});

describe("session id formats", () => {
  it("timestamp-micro adds the fraction of a second", async () => {
    const clock = createFakeClock();
    clock.advance(0.123);
    const sessions = new SessionManager({ namespace: "support", now: clock.now, idFormat: "timestamp-micro" });
    expect(await sessions.getOrCreateSession("user-123")).toBe("support-user-123-20250107-120000-123000");
  });

  it("uuid gives opaque ids that do not reveal the user", async () => {
    const sessions = new SessionManager({ idFormat: "uuid" });
    const id = await sessions.getOrCreateSession("alice@example.com");
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(id).not.toContain("alice");
  });

  it("a custom function gets the key and time, and still never repeats the previous id", async () => {
    const clock = createFakeClock();
    const seen: unknown[] = [];
    const sessions = new SessionManager({
      now: clock.now,
      idFormat: (context) => {
        seen.push(context);
        return `chat-${context.userId}`;
      },
    });
    expect(await sessions.getOrCreateSession("bob", "sales")).toBe("chat-bob");
    expect(seen).toEqual([{ namespace: "sales", userId: "bob", now: clock.now() }]);
    await sessions.closeSession("bob", "sales");
    expect(await sessions.getOrCreateSession("bob", "sales")).toBe("chat-bob-2");
    expect(await sessions.getOrCreateSession("bob", "sales", { forceNew: true })).toBe("chat-bob-3");
  });

  it("a custom function that returns no id fails with INVALID_SESSION_ID and stores nothing", async () => {
    const sessions = new SessionManager({ idFormat: () => "" });
    expect(await rejectionCode(sessions.resolve("bob"))).toBe("INVALID_SESSION_ID");
    expect(await sessions.getSessionInfo("bob")).toBeNull();
  });

  it("the same-second suffix counts up: -2, -3", async () => {
    const sessions = new SessionManager({ namespace: "support", now: createFakeClock().now });
    const ids = [await sessions.getOrCreateSession("user-123")];
    for (let index = 0; index < 2; index++)
      ids.push(await sessions.getOrCreateSession("user-123", undefined, { forceNew: true }));
    expect(ids).toEqual([
      "support-user-123-20250107-120000",
      "support-user-123-20250107-120000-2",
      "support-user-123-20250107-120000-3",
    ]);
  });
});

describe("input validation", () => {
  const sessions = new SessionManager();
  const calls = {
    resolve: (userId: unknown) => sessions.resolve(userId as string),
    getOrCreateSession: (userId: unknown) => sessions.getOrCreateSession(userId as string),
    updateActivity: (userId: unknown) => sessions.updateActivity(userId as string),
    closeSession: (userId: unknown) => sessions.closeSession(userId as string),
    getSessionInfo: (userId: unknown) => sessions.getSessionInfo(userId as string),
  };

  for (const [method, call] of Object.entries(calls)) {
    it.each(invalidUserIds)(`${method} rejects a $label user id with $code`, async ({ value, code }) => {
      expect(await rejectionCode(call(value))).toBe(code);
    });
  }

  it("rejects a bad namespace argument with INVALID_NAMESPACE", async () => {
    expect(await rejectionCode(sessions.resolve("user", ""))).toBe("INVALID_NAMESPACE");
    expect(await rejectionCode(sessions.resolve("user", 7 as unknown as string))).toBe("INVALID_NAMESPACE");
  });

  it("says what to do in the message", async () => {
    const error = await sessions.resolve("").catch((caught: unknown) => caught);
    expect(String(error)).toMatch(/^SessionError: \[threadline\] userId must be 1 to 256 characters long/);
  });

  it("rejects a bad items limit or items argument", async () => {
    const session = await sessions.resolve("user");
    expect(await rejectionCode(sessions.getItems(session, -1))).toBe("INVALID_OPTION");
    expect(await rejectionCode(sessions.addItems(session, "hi" as unknown as unknown[]))).toBe("INVALID_ITEMS");
    expect(await rejectionCode(sessions.addItems({ ...session, sessionId: "" }, ["x"]))).toBe("INVALID_SESSION_ID");
  });
});

describe("store failures", () => {
  function failingStore(error: unknown): SessionStore {
    const fail = () => Promise.reject(error);
    return {
      specificationVersion: "v1",
      name: "broken",
      capabilities: { atomic: true, exactRenewal: true, exactlyOnceEnds: true, history: true },
      resolve: fail,
      touch: fail,
      get: fail,
      close: fail,
      sweep: fail,
    };
  }

  it("wraps unexpected store errors in STORE_ERROR with the cause", async () => {
    const cause = new Error("connection reset");
    const sessions = new SessionManager({ store: failingStore(cause) });
    const error = await sessions.resolve("user").catch((caught: unknown) => caught);
    expect(SessionError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: "STORE_ERROR", cause });
    expect(String(error)).toContain("[threadline] [broken]");
    for (const call of [
      () => sessions.updateActivity("user"),
      () => sessions.closeSession("user"),
      () => sessions.getSessionInfo("user"),
      () => sessions.cleanupExpired(),
    ]) {
      expect(await rejectionCode(call())).toBe("STORE_ERROR");
    }
  });

  it("passes a store's own SessionError through unchanged", async () => {
    const unavailable = new SessionError({ code: "STORE_UNAVAILABLE", source: "broken", message: "down" });
    const sessions = new SessionManager({ store: failingStore(unavailable) });
    expect(await sessions.resolve("user").catch((caught: unknown) => caught)).toBe(unavailable);
  });

  it("reports UNSUPPORTED for items on a store without them", async () => {
    const sessions = new SessionManager({ store: failingStore(new Error("unused")) });
    const session = { sessionId: "s", userId: "u", namespace: "default" };
    expect(await rejectionCode(sessions.getItems(session))).toBe("UNSUPPORTED");
  });
});

describe("SessionError", () => {
  it("is recognised across copies of the package through its brand", () => {
    const error = new SessionError({ code: "STORE_ERROR", message: "x" });
    expect(SessionError.isInstance(error)).toBe(true);
    expect(SessionError.isInstance(new Error("x"))).toBe(false);
    expect(SessionError.isInstance(null)).toBe(false);
    expect(error.stack).toContain("session-manager.test.ts");
  });
});
