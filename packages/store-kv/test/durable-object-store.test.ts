import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { SessionError, SessionManager, type SessionManagerOptions } from "@threadline/session-core";
import { createFakeClock, type FakeClock, uniqueNamespace } from "@threadline/session-core/testing";
import { beforeEach, describe, expect, it } from "vitest";
import { type DurableObjectStubLike, durableObjectStore, sessionKey } from "../src/index.js";

let clock: FakeClock;
let namespace: string;

beforeEach(() => {
  clock = createFakeClock();
  namespace = uniqueNamespace();
});

/** A store and manager built the way a Worker builds them for each request: from `env`. */
function perRequest(overrides: SessionManagerOptions = {}): SessionManager {
  const store = durableObjectStore({ namespace: env.SESSION_OBJECTS });
  return new SessionManager({ store, now: clock.now, namespace, ...overrides });
}

async function objectOf(userId: string, sessionNamespace = namespace): Promise<DurableObjectStubLike> {
  const name = await sessionKey("threadline:", sessionNamespace, userId);
  return env.SESSION_OBJECTS.get(env.SESSION_OBJECTS.idFromName(name));
}

function storedKeys(stub: DurableObjectStubLike): Promise<string[]> {
  return runInDurableObject(stub, async (_, state) => [...(await state.storage.list()).keys()]);
}

describe("race", () => {
  it.each(["timestamp", "uuid"] as const)(
    "gives 20 concurrent first requests (each its own Worker request) exactly one %s id",
    async (idFormat) => {
      const results = await Promise.all(Array.from({ length: 20 }, () => perRequest({ idFormat }).resolve("user")));
      expect(new Set(results.map((session) => session.sessionId)).size).toBe(1);
      expect(results.filter((session) => session.isNew)).toHaveLength(1);
    },
  );

  it("gives 20 concurrent forceNew requests 20 distinct ids and keeps the last", async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, () => perRequest().resolve("user", undefined, { forceNew: true })),
    );
    const ids = results.map((session) => session.sessionId);
    expect(new Set(ids).size).toBe(20);
    expect(ids).toContain((await perRequest().getSessionInfo("user"))?.sessionId);
  });
});

describe("one object per (namespace, user)", () => {
  it("keeps each user's session in its own object, found again by a new store", async () => {
    const alice = await perRequest().getOrCreateSession("alice");
    await perRequest().getOrCreateSession("bob");
    await perRequest({ namespace: `${namespace}-other` }).getOrCreateSession("alice");
    const stored = await runInDurableObject(await objectOf("alice"), (_, state) => state.storage.get(`session`));
    expect(stored).toMatchObject({ sessionId: alice, userId: "alice", namespace });
    const bobStored = await runInDurableObject(await objectOf("bob"), (_, state) => state.storage.get("session"));
    expect(bobStored).toMatchObject({ userId: "bob" });
    expect(await perRequest().getOrCreateSession("alice")).toBe(alice);
  });
});

describe("alarm cleanup", () => {
  it("keeps a live session when the alarm runs early and moves the alarm to its expiry", async () => {
    const sessions = perRequest();
    const id = await sessions.getOrCreateSession("user");
    const stub = await objectOf("user");
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await sessions.getOrCreateSession("user")).toBe(id);
    const alarm = await runInDurableObject(stub, (_, state) => state.storage.getAlarm());
    expect(alarm).toBeGreaterThan(Date.now());
  });

  it("deletes the session, its tombstone and its items once expired", async () => {
    // A real alarm is under test, so real time passes; 1 s leaves room for a loaded machine
    // between storing and checking what was stored.
    const sessions = perRequest({ inactivityTimeout: 1, now: Date.now });
    const session = await sessions.resolve("user");
    await sessions.addItems(session, ["hello", "world"]);
    const stub = await objectOf("user");
    expect((await storedKeys(stub)).length).toBe(3);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await runDurableObjectAlarm(stub); // runs it now if the runtime has not already
    expect(await storedKeys(stub)).toEqual([]);
    expect(await runInDurableObject(stub, (_, state) => state.storage.getAlarm())).toBeNull();
  });

  it("is set once per stored session, not on every renewal", async () => {
    const sessions = perRequest();
    await sessions.getOrCreateSession("user");
    const stub = await objectOf("user");
    const first = await runInDurableObject(stub, (_, state) => state.storage.getAlarm());
    clock.advance(60);
    await sessions.getOrCreateSession("user");
    await sessions.resolve("user", undefined, { forceNew: true });
    expect(await runInDurableObject(stub, (_, state) => state.storage.getAlarm())).toBe(first);
  });
});

describe("conversation items", () => {
  it("stores batches larger than one storage call and reads the last N", async () => {
    const sessions = perRequest();
    const session = await sessions.resolve("user");
    const items = Array.from({ length: 300 }, (_, index) => ({ index }));
    await sessions.addItems(session, items);
    await sessions.addItems(session, [{ index: 300 }]);
    expect(await sessions.getItems(session)).toHaveLength(301);
    expect(await sessions.getItems(session, 2)).toEqual([{ index: 299 }, { index: 300 }]);
    expect(await sessions.getItems(session, 0)).toEqual([]);
    expect(await sessions.popItem(session)).toEqual({ index: 300 });
    await sessions.clearItems(session);
    expect(await sessions.getItems(session)).toEqual([]);
    expect(await storedKeys(await objectOf("user"))).toEqual(["session"]);
  });

  it("refuses items for an ended session with one clearly tagged SESSION_ENDED", async () => {
    const sessions = perRequest();
    const session = await sessions.resolve("user");
    await sessions.closeSession("user");
    const error = await sessions.addItems(session, ["late"]).catch((caught: unknown) => caught);
    expect(SessionError.isInstance(error) && error.code).toBe("SESSION_ENDED");
    expect((error as Error).message).toMatch(/^\[threadline\] \[durable-object\] Session \S+ is not the live session/);
  });
});

describe("failures and options", () => {
  it("reports an unreachable object as STORE_UNAVAILABLE", async () => {
    const unreachable = {
      idFromName: (name: string) => env.SESSION_OBJECTS.idFromName(name),
      get: () => ({ fetch: () => Promise.reject(new Error("Durable Object reset because its code was updated.")) }),
    };
    const sessions = new SessionManager({ store: durableObjectStore({ namespace: unreachable }), now: clock.now });
    await expect(sessions.resolve("user")).rejects.toMatchObject({
      code: "STORE_UNAVAILABLE",
      message: expect.stringMatching(/code was updated/),
    });
  });

  it("rejects a missing binding with a hint about the wrangler config", () => {
    expect(() => durableObjectStore({ namespace: undefined as never })).toThrow(
      expect.objectContaining({ code: "INVALID_OPTION", message: expect.stringMatching(/durable_objects/) }),
    );
  });

  it("declares atomic, exact renewal and self-expiry", () => {
    expect(durableObjectStore({ namespace: env.SESSION_OBJECTS }).capabilities).toEqual({
      atomic: true,
      exactRenewal: true,
    });
  });
});
