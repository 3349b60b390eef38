import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { SessionError, SessionManager, type SessionManagerOptions } from "@threadline/session-core";
import { createFakeClock, type FakeClock, uniqueNamespace } from "@threadline/session-core/testing";
import { beforeEach, describe, expect, it } from "vitest";
import { type DurableObjectStubLike, durableObjectStore, sessionKey, ThreadlineSessionObject } from "../src/index.js";
import type { ObjectRequest } from "../src/protocol.js";
import { CLOUDFLARE_KEYS_PER_CALL, strictStorage } from "./support/strict-storage.js";

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

describe("stored values", () => {
  it("treats a value without a creation high-water mark (an earlier version's) as created at createdAt", async () => {
    const stub = await objectOf("user");
    const ids = await runInDurableObject(stub, async (_, state) => {
      const now = clock.now();
      const base = `${namespace}-user-20250107-120000`;
      const earlier = { v: 1, sessionId: base, baseId: base, sequence: 1, namespace, userId: "user", ended: false };
      const times = { createdAt: now, lastActivityAt: now, expiresAt: now + 120_000, localExpiresAt: now + 120_000 };
      await state.storage.put({ session: { ...earlier, ...times, itemCount: 0 } });
      let loading: Promise<unknown> = Promise.resolve();
      const object = new ThreadlineSessionObject(
        { storage: state.storage, blockConcurrencyWhile: (callback) => (loading = callback()) },
        undefined,
        clock.now,
      );
      await loading;
      const resolve = async (at: number, candidate: string) => {
        const request = {
          op: "resolve",
          namespace,
          userId: "user",
          now: at,
          timeoutMs: 120_000,
          forceNew: true,
          candidate,
        };
        const response = await object.fetch({ json: async () => request });
        return ((await response.json()) as { result: { sessionId: string } }).result.sessionId;
      };
      // A Worker 2 s behind, then one on time proposing the first id again.
      return [base, await resolve(now - 2_000, `${namespace}-user-20250107-115958`), await resolve(now, base)];
    });
    expect(new Set(ids).size).toBe(3);
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
    expect(await sessions.getItems(session, 1e21)).toHaveLength(301);
    expect(await sessions.getItems(session, 0)).toEqual([]);
    expect(await sessions.popItem(session)).toEqual({ index: 300 });
    await sessions.clearItems(session);
    expect(await sessions.getItems(session)).toEqual([]);
    expect(await storedKeys(await objectOf("user"))).toEqual(["session"]);
  });

  it("refuses items for an ended session with one clearly tagged SESSION_ENDED, its fields carried across", async () => {
    const sessions = perRequest();
    const session = await sessions.resolve("user");
    await sessions.closeSession("user");
    const error = await sessions.addItems(session, ["late"]).catch((caught: unknown) => caught);
    expect(SessionError.isInstance(error) && error).toMatchObject({
      code: "SESSION_ENDED",
      source: "durable-object",
      retryable: false,
    });
    expect((error as Error).message).toMatch(/^\[threadline\] \[durable-object\] Session \S+ is not the live session/);
  });

  it("refuses a sparse array ([1, , 3]) with INVALID_ITEMS and stores nothing", async () => {
    const sessions = perRequest();
    const session = await sessions.resolve("user");
    // biome-ignore lint/suspicious/noSparseArray: the hole is what is under test
    const error = await sessions.addItems(session, [1, , 3]).catch((caught: unknown) => caught);
    expect(SessionError.isInstance(error) && error.code).toBe("INVALID_ITEMS");
    expect(await sessions.getItems(session)).toEqual([]);
    expect(await storedKeys(await objectOf("user"))).toEqual(["session"]);
  });

  it("stores 130,000 small items in one addItems and reads them with any limit, up to 1e21", async () => {
    const store = durableObjectStore({ namespace: env.SESSION_OBJECTS });
    const sessions = new SessionManager({ store, now: clock.now, namespace });
    const session = await sessions.resolve("user");
    await sessions.addItems(
      session,
      Array.from({ length: 130_000 }, (_, index) => index),
    );
    expect(await sessions.getItems(session, 2)).toEqual([129_998, 129_999]);
    // The store itself, as a third-party manager would call it (ours clamps): a huge limit means all.
    const all = await store.items.list({ ...session, now: clock.now() }, 1e21);
    expect(all).toHaveLength(130_000);
    expect(all[0]).toBe(0);
    await sessions.clearItems(session);
    expect(await storedKeys(await objectOf("user"))).toEqual(["session"]);
  }, 60_000);

  it(`never passes the storage API more than ${CLOUDFLARE_KEYS_PER_CALL} keys per call (Miniflare does not enforce it)`, async () => {
    const stub = await objectOf("user");
    const largestCall = await runInDurableObject(stub, async (_, state) => {
      const storage = strictStorage(state.storage);
      let loading: Promise<unknown> = Promise.resolve();
      const object = new ThreadlineSessionObject(
        { storage, blockConcurrencyWhile: (callback) => (loading = callback()) },
        undefined,
        clock.now,
      );
      await loading;
      const send = async (request: ObjectRequest) => {
        const response = await object.fetch({ json: async () => request });
        const body = (await response.json()) as { result?: unknown; error?: unknown };
        if (body.error !== undefined) throw new Error(JSON.stringify(body.error));
        return body.result;
      };
      const now = clock.now();
      const resolve = { op: "resolve", namespace, userId: "user", now, timeoutMs: 120_000, candidate: "a" } as const;
      const { sessionId } = (await send({ ...resolve, forceNew: false })) as { sessionId: string };
      const items = Array.from({ length: 1_000 }, (_, index) => String(index));
      await send({ op: "append", sessionId, now, items });
      const next = (await send({ ...resolve, forceNew: true })) as { sessionId: string }; // deletes the 1,000
      await send({ op: "append", sessionId: next.sessionId, now, items });
      await send({ op: "close", now, sessionId: null }); // and these
      expect([...(await state.storage.list()).keys()]).toEqual(["session"]);
      return storage.largestCall;
    });
    expect(largestCall).toBe(CLOUDFLARE_KEYS_PER_CALL);
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

  it("reports an answer that is not the session object's as STORE_ERROR, and rethrows the object's errors with their fields", async () => {
    const answering = (status: number, text: string) => ({
      idFromName: (name: string) => env.SESSION_OBJECTS.idFromName(name),
      get: () => ({ fetch: async () => ({ status, text: async () => text }) }),
    });
    const store = (status: number, text: string) =>
      new SessionManager({ store: durableObjectStore({ namespace: answering(status, text) }), now: clock.now });
    await expect(store(404, "Not found").resolve("user")).rejects.toMatchObject({
      code: "STORE_ERROR",
      message: expect.stringMatching(/class_name is ThreadlineSessionObject/),
    });
    const overloaded = '{"error":{"code":"STORE_UNAVAILABLE","message":"Overloaded.","retryable":true}}';
    const error = await store(503, overloaded)
      .resolve("user")
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: "STORE_UNAVAILABLE", source: "durable-object", retryable: true });
    expect((error as Error).message).toBe("[threadline] [durable-object] Overloaded.");
  });

  it("rejects a missing binding with a hint about the wrangler config", () => {
    expect(() => durableObjectStore({ namespace: undefined as never })).toThrow(
      expect.objectContaining({ code: "INVALID_OPTION", message: expect.stringMatching(/durable_objects/) }),
    );
  });

  it.each([
    ["no options", () => durableObjectStore(undefined as never)],
    ["the binding instead of options", () => durableObjectStore(env.SESSION_OBJECTS as never)],
  ])("rejects %s with INVALID_OPTION saying what to write", (_, build) => {
    expect(build).toThrow(
      expect.objectContaining({
        code: "INVALID_OPTION",
        source: "durable-object",
        message: expect.stringContaining("durableObjectStore({ namespace: env.SESSION_OBJECTS })"),
      }),
    );
  });

  it("declares atomic, exact renewal and self-expiry", () => {
    expect(durableObjectStore({ namespace: env.SESSION_OBJECTS }).capabilities).toEqual({
      atomic: true,
      exactRenewal: true,
    });
  });
});
