import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import {
  type SessionEndEvent,
  SessionError,
  SessionManager,
  type SessionManagerOptions,
} from "@threadline/session-core";
import { MAX_HISTORY_PER_USER } from "@threadline/session-core/store-kit";
import { createFakeClock, type FakeClock, uniqueNamespace } from "@threadline/session-core/testing";
import { beforeEach, describe, expect, it } from "vitest";
import {
  type DurableObjectNamespaceLike,
  type DurableObjectStubLike,
  durableObjectStore,
  EXPIRY_INDEX_SHARDS,
  sessionKey,
  ThreadlineSessionObject,
  UNCLAIMED_END_WINDOW_MS,
} from "../src/index.js";
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

async function objectOf(
  userId: string,
  sessionNamespace = namespace,
  keyPrefix = "threadline:",
): Promise<DurableObjectStubLike> {
  const name = await sessionKey(keyPrefix, sessionNamespace, userId);
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

/**
 * Runs the object's due alarm now, or, when the runtime is already running it (then
 * `runDurableObjectAlarm` returns false at once), waits for that run to finish: the alarm is
 * rescheduled or gone and no longer due. At most 2 s.
 */
async function alarmRun(stub: DurableObjectStubLike): Promise<void> {
  if (await runDurableObjectAlarm(stub)) return;
  const deadline = Date.now() + 2_000;
  for (;;) {
    // While the runtime runs it, no alarm is set; it ends by setting the next one or erasing everything.
    const alarm = await runInDurableObject(stub, (_, state) => state.storage.getAlarm());
    const settled = alarm === null ? (await storedKeys(stub)).length === 0 : alarm > Date.now();
    if (settled || Date.now() > deadline) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

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

  it("frees an expired session's items, keeps it until its end is claimed, then deletes everything", async () => {
    // A real alarm is under test, so real time passes; 1 s leaves room for a loaded machine
    // between storing and checking what was stored.
    const keyPrefix = `${uniqueNamespace()}:`;
    const store = durableObjectStore({ namespace: env.SESSION_OBJECTS, keyPrefix });
    const ends: SessionEndEvent[] = [];
    const sessions = new SessionManager({
      store,
      namespace,
      inactivityTimeout: 1,
      cleanupInterval: 0,
      onSessionEnd: (end) => {
        ends.push(end);
      },
    });
    const session = await sessions.resolve("user");
    await sessions.addItems(session, ["hello", "world"]);
    const stub = await objectOf("user", namespace, keyPrefix);
    expect((await storedKeys(stub)).sort()).toEqual([
      "aux:group:000000000000",
      "item:000000000000",
      "item:000000000001",
      "session",
    ]);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await alarmRun(stub);
    // The items are gone; the session waits for a sweep (or the next resolve) to claim its end.
    expect(await storedKeys(stub)).toEqual(["session"]);
    const alarm = await runInDurableObject(stub, (_, state) => state.storage.getAlarm());
    expect(alarm).toBeGreaterThan(Date.now() + UNCLAIMED_END_WINDOW_MS - 60_000);
    expect(await sessions.cleanupExpired()).toBe(1);
    await sessions.flush();
    expect(ends).toEqual([expect.objectContaining({ reason: "expired", endedAt: session.expiresAt })]);
    await alarmRun(stub);
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
          retentionMs: 0,
          maxDurationMs: null,
          maxTurns: null,
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
    const unbounded = { maxItems: Number.POSITIVE_INFINITY, maxItemBytes: Number.POSITIVE_INFINITY };
    const sessions = new SessionManager({ store, now: clock.now, namespace, ...unbounded });
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
      const resolve = {
        op: "resolve",
        namespace,
        userId: "user",
        now,
        timeoutMs: 120_000,
        candidate: "a",
        retentionMs: 0,
        maxDurationMs: null,
        maxTurns: null,
      } as const;
      const { sessionId } = (await send({ ...resolve, forceNew: false })) as { sessionId: string };
      const items = Array.from({ length: 1_000 }, (_, index) => String(index));
      await send({ op: "append", sessionId, now, items });
      const next = (await send({ ...resolve, forceNew: true })) as { sessionId: string }; // deletes the 1,000
      await send({ op: "append", sessionId: next.sessionId, now, items });
      await send({ op: "close", now, sessionId: null, retentionMs: 0 }); // and these
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
      idFromString: (id: string) => env.SESSION_OBJECTS.idFromString(id),
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
      idFromString: (id: string) => env.SESSION_OBJECTS.idFromString(id),
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

  it("declares atomic, exact renewal, exactly-once ends and history", () => {
    expect(durableObjectStore({ namespace: env.SESSION_OBJECTS }).capabilities).toEqual({
      atomic: true,
      exactRenewal: true,
      exactlyOnceEnds: true,
      history: true,
    });
  });
});

/** A binding that counts the requests the store sends, by operation (the URL's path). */
function countingNamespace(): { binding: DurableObjectNamespaceLike; ops: Map<string, number> } {
  const ops = new Map<string, number>();
  const inner = env.SESSION_OBJECTS;
  const binding: DurableObjectNamespaceLike = {
    idFromName: (name) => inner.idFromName(name),
    idFromString: (id) => inner.idFromString(id),
    get: (id) => {
      const stub = inner.get(id);
      return {
        fetch: (input, init) => {
          const op = new URL(input).pathname.slice(1);
          ops.set(op, (ops.get(op) ?? 0) + 1);
          return stub.fetch(input, init);
        },
      };
    },
  };
  return { binding, ops };
}

/** Every key of every index shard of `keyPrefix`. */
async function indexKeys(keyPrefix: string): Promise<string[]> {
  const keys: string[] = [];
  for (let shard = 0; shard < EXPIRY_INDEX_SHARDS; shard++) {
    const stub = env.SESSION_OBJECTS.get(env.SESSION_OBJECTS.idFromName(`${keyPrefix}#expiry-index-${shard}`));
    keys.push(...(await storedKeys(stub)));
  }
  return keys;
}

describe("lifecycle", () => {
  let keyPrefix: string;
  beforeEach(() => {
    // Each test its own expiry index: a sweep covers every pair of its prefix.
    keyPrefix = `${uniqueNamespace()}:`;
  });

  function recording(
    overrides: SessionManagerOptions = {},
    store = durableObjectStore({ namespace: env.SESSION_OBJECTS, keyPrefix }),
  ) {
    const ends: SessionEndEvent[] = [];
    const sessions = new SessionManager({
      store,
      now: clock.now,
      namespace,
      cleanupInterval: 0,
      onSessionEnd: (end) => {
        ends.push(end);
      },
      ...overrides,
    });
    return { sessions, ends };
  }

  it("forgetUser leaves no storage key and no alarm in the pair's object, and no index entry", async () => {
    const { sessions } = recording({ retention: 3600 });
    await sessions.resolve("user");
    await sessions.closeSession("user");
    const second = await sessions.resolve("user");
    await sessions.addItems(second, ["private"]);
    const stub = await objectOf("user", namespace, keyPrefix);
    expect((await storedKeys(stub)).sort()).toEqual([
      "aux:group:000000000000",
      "history:000000000001",
      "item:000000000000",
      "session",
    ]);
    const objectId = env.SESSION_OBJECTS.idFromName(await sessionKey(keyPrefix, namespace, "user")).toString();
    expect((await indexKeys(keyPrefix)).some((key) => key.includes(objectId))).toBe(true);
    expect(await sessions.forgetUser("user")).toBe(2);
    expect(await storedKeys(stub)).toEqual([]);
    expect(await runInDurableObject(stub, (_, state) => state.storage.getAlarm())).toBeNull();
    expect((await indexKeys(keyPrefix)).some((key) => key.includes(objectId))).toBe(false);
  });

  it("keeps no user id in the expiry index, only object ids", async () => {
    const { sessions } = recording();
    await sessions.resolve("alice@example.com");
    const keys = await indexKeys(keyPrefix);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.join(" ")).not.toMatch(/alice|example/);
  });

  it("delivers each end once when two managers sweep at the same time, and the next resolve does not repeat it", async () => {
    const first = recording();
    const second = recording();
    const users = Array.from({ length: 30 }, (_, index) => `user-${index}`);
    const created = await Promise.all(users.map((user) => first.sessions.resolve(user)));
    clock.advance(121);
    const counts = await Promise.all([
      first.sessions.cleanupExpired(),
      second.sessions.cleanupExpired(),
      first.sessions.cleanupExpired(),
      second.sessions.cleanupExpired(),
    ]);
    expect(counts.reduce((sum, count) => sum + count, 0)).toBe(30);
    await Promise.all(users.map((user) => second.sessions.resolve(user)));
    await Promise.all([first.sessions.flush(), second.sessions.flush()]);
    const ended = [...first.ends, ...second.ends];
    expect(ended.map((end) => end.session.sessionId).sort()).toEqual(
      created.map((session) => session.sessionId).sort(),
    );
    expect(ended.every((end) => end.reason === "expired")).toBe(true);
  });

  it("sweeps at a cost in proportion to what expired: one visit per due pair, none for live ones", async () => {
    const { binding, ops } = countingNamespace();
    const { sessions } = recording({}, durableObjectStore({ namespace: binding, keyPrefix }));
    for (const user of ["a", "b", "c"]) await sessions.resolve(user);
    clock.advance(100);
    for (let index = 0; index < 20; index++) await sessions.resolve(`live-${index}`);
    clock.advance(30);
    ops.clear();
    expect(await sessions.cleanupExpired()).toBe(3);
    expect(ops.get("claim")).toBe(3);
    expect(ops.get("take")).toBe(EXPIRY_INDEX_SHARDS);
    expect(ops.get("settle") ?? 0).toBeLessThanOrEqual(3);
    ops.clear();
    expect(await sessions.cleanupExpired()).toBe(0);
    expect([...ops.keys()]).toEqual(["take"]);
  });

  it("revisits a renewed session at its new expiry instead of ending it", async () => {
    const { sessions, ends } = recording();
    const session = await sessions.resolve("user");
    clock.advance(100);
    await sessions.resolve("user");
    clock.advance(30); // past the expiry the index was told, not the renewed one
    expect(await sessions.cleanupExpired()).toBe(0);
    expect((await sessions.getSessionInfo("user"))?.sessionId).toBe(session.sessionId);
    clock.advance(91);
    expect(await sessions.cleanupExpired()).toBe(1);
    await sessions.flush();
    expect(ends).toEqual([expect.objectContaining({ reason: "expired", endedAt: clock.now() - 1_000 })]);
  });

  it("serves a resolve when the index cannot be reached, and reports it; the end is found at the next resolve", async () => {
    const errors: SessionError[] = [];
    const inner = env.SESSION_OBJECTS;
    const indexDown: DurableObjectNamespaceLike = {
      idFromName: (name) => inner.idFromName(name),
      idFromString: (id) => inner.idFromString(id),
      get: (id) => {
        const stub = inner.get(id);
        return {
          fetch: (input, init) =>
            /\/(watch|take)$/.test(input) ? Promise.reject(new Error("index overloaded")) : stub.fetch(input, init),
        };
      },
    };
    const store = durableObjectStore({ namespace: indexDown, keyPrefix, onIndexError: (error) => errors.push(error) });
    const { sessions, ends } = recording({}, store);
    const first = await sessions.resolve("user");
    expect(errors.map((error) => error.code)).toEqual(["STORE_UNAVAILABLE"]);
    clock.advance(121);
    await expect(sessions.cleanupExpired()).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
    const second = await sessions.resolve("user");
    await sessions.flush();
    expect(second.previousSessionId).toBe(first.sessionId);
    expect(ends.map((end) => end.session.sessionId)).toEqual([first.sessionId]);
  });

  it("hands index bookkeeping to waitUntil when given", async () => {
    const pending: Promise<unknown>[] = [];
    const store = durableObjectStore({ namespace: env.SESSION_OBJECTS, keyPrefix, waitUntil: (p) => pending.push(p) });
    const { sessions } = recording({}, store);
    await sessions.resolve("user");
    expect(pending).toHaveLength(1);
    await sessions.resolve("user"); // a renewal: nothing for the index
    expect(pending).toHaveLength(1);
    await Promise.all(pending);
    clock.advance(120);
    expect(await sessions.cleanupExpired()).toBe(1);
  });

  it("lists one user's sessions; a listing of everyone is UNSUPPORTED, saying why", async () => {
    const { sessions } = recording({ retention: 60 });
    await sessions.resolve("user");
    await sessions.resolve("user", undefined, { forceNew: true });
    const page = await sessions.listSessions({ userId: "user", status: "all" });
    expect(page.sessions.map((session) => session.status)).toEqual(["active", "ended"]);
    await expect(sessions.listSessions({ namespace })).rejects.toMatchObject({
      code: "UNSUPPORTED",
      message: expect.stringMatching(/cannot be enumerated/),
    });
  });

  it(`keeps at most ${MAX_HISTORY_PER_USER} ended sessions per user, one storage key each`, async () => {
    const { sessions } = recording({ retention: 3600 });
    for (let index = 0; index < MAX_HISTORY_PER_USER + 5; index++) {
      await sessions.resolve("user", undefined, { forceNew: index > 0 });
    }
    const keys = await storedKeys(await objectOf("user", namespace, keyPrefix));
    expect(keys.filter((key) => key.startsWith("history:"))).toHaveLength(MAX_HISTORY_PER_USER);
    const all = await sessions.listSessions({ userId: "user", status: "ended", limit: 2000 });
    expect(all.sessions).toHaveLength(MAX_HISTORY_PER_USER);
  }, 60_000);
});

describe("ids after erasure", () => {
  it("never gives the session created right after forgetUser (same second) the forgotten one's id", async () => {
    const sessions = perRequest();
    const forgotten = await sessions.resolve("user");
    await sessions.forgetUser("user");
    expect(await storedKeys(await objectOf("user"))).toEqual([]);
    const next = await sessions.resolve("user");
    expect(next.sessionId).not.toBe(forgotten.sessionId);
    expect(next.previousSessionId).toBeUndefined();
  });
});
