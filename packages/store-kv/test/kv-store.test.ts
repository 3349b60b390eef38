import { env } from "cloudflare:test";
import {
  type SessionEndEvent,
  SessionError,
  SessionManager,
  type SessionManagerOptions,
} from "@threadline/session-core";
import { createFakeClock, type FakeClock, uniqueNamespace } from "@threadline/session-core/testing";
import fc from "fast-check";
import { beforeEach, describe, expect, it } from "vitest";
import { KV_MIN_TTL_SECONDS, type KVStoreOptions, kvStore, sessionKey } from "../src/index.js";
import { type CountingKV, countingKV } from "./support/counting-kv.js";

let clock: FakeClock;
let namespace: string;
let kv: CountingKV;

beforeEach(() => {
  clock = createFakeClock();
  namespace = uniqueNamespace();
  kv = countingKV(env.SESSIONS);
});

function manager(storeOptions: Partial<KVStoreOptions> = {}, overrides: SessionManagerOptions = {}): SessionManager {
  const store = kvStore({ binding: kv, ...storeOptions });
  return new SessionManager({ store, now: clock.now, namespace, ...overrides });
}

describe("throttled renewal", () => {
  it("keeps an active user's session across 100 requests with a third of the writes", async () => {
    const sessions = manager(); // timeout 120 s, renewAfter 30 s
    const first = await sessions.getOrCreateSession("user");
    for (let request = 1; request < 100; request++) {
      clock.advance(10); // 1,000 s in all: eight timeouts' worth
      expect(await sessions.getOrCreateSession("user")).toBe(first);
    }
    expect(kv.reads).toBe(100);
    // The creation, then one renewal every 30 s of the 990 s that followed.
    expect(kv.writes).toBe(1 + 33);
  });

  it("writes every renewal with renewAfter 0", async () => {
    const sessions = manager({ renewAfter: 0 });
    for (let request = 0; request < 10; request++) {
      await sessions.getOrCreateSession("user");
      clock.advance(10);
    }
    expect(kv.writes).toBe(10);
  });

  it("costs at most renewAfter seconds of the timeout, never more", async () => {
    const sessions = manager({}, { inactivityTimeout: 120 });
    const first = await sessions.resolve("user");
    clock.advance(29);
    const renewed = await sessions.resolve("user"); // 29 s < 30 s: not written
    expect(renewed.sessionId).toBe(first.sessionId);
    expect(renewed.lastActivityAt).toBe(first.lastActivityAt); // what is stored, honestly
    expect(kv.writes).toBe(1);
    // Exact renewal would keep the session until t = 149 s; the store ends it at t = 120 s,
    // 29 s early: within the documented renewAfter (30 s).
    clock.advance(90.999);
    expect(await sessions.getSessionInfo("user")).not.toBeNull();
    clock.advance(0.001);
    expect(await sessions.getSessionInfo("user")).toBeNull();
  });

  it("keeps every session at least timeout - renewAfter after its last activity, and at most timeout", async () => {
    const timeout = 120;
    const renewAfter = 30;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 60_000 }), { maxLength: 30 }), async (gapsMs) => {
        clock = createFakeClock();
        const user = `user-${crypto.randomUUID()}`;
        const sessions = manager({ renewAfter }, { inactivityTimeout: timeout });
        const first = await sessions.getOrCreateSession(user);
        for (const gap of gapsMs) {
          clock.advance(gap / 1000);
          expect(await sessions.getOrCreateSession(user)).toBe(first);
        }
        const lastActivity = clock.now();
        clock.set(lastActivity + (timeout - renewAfter) * 1000);
        expect((await sessions.getSessionInfo(user))?.sessionId).toBe(first);
        clock.set(lastActivity + timeout * 1000);
        expect(await sessions.getSessionInfo(user)).toBeNull();
      }),
      { numRuns: 30 },
    );
  });

  it("renews short timeouts at least every quarter timeout, so timeouts under KV's 60 s minimum work", async () => {
    const sessions = manager({}, { inactivityTimeout: 10 }); // throttle: min(30 s, 10 s / 4) = 2.5 s
    const first = await sessions.getOrCreateSession("user");
    for (let request = 0; request < 30; request++) {
      clock.advance(3);
      expect(await sessions.getOrCreateSession("user")).toBe(first);
    }
    clock.advance(9.999);
    expect(await sessions.getSessionInfo("user")).not.toBeNull();
    clock.advance(0.001);
    expect(await sessions.getSessionInfo("user")).toBeNull();
    expect(await sessions.getOrCreateSession("user")).not.toBe(first);
    // The KV TTL only collects: never below KV's minimum, whatever the timeout.
    expect(kv.puts.length).toBeGreaterThan(2);
    for (const put of kv.puts) expect(put.expirationTtl).toBe(KV_MIN_TTL_SECONDS);
  });

  it("sets the collection TTL from the time left when it exceeds KV's minimum", async () => {
    const sessions = manager({ renewAfter: 0 }, { inactivityTimeout: 600 });
    await sessions.getOrCreateSession("user");
    clock.advance(100);
    await sessions.closeSession("user"); // the tombstone lives as long as the session would have
    expect(kv.puts.map((put) => put.expirationTtl)).toEqual([600, 500]);
    expect(kv.puts[1]?.metadata).toMatchObject({ ended: true });
  });

  it("hands renewal writes to waitUntil and still stores them", async () => {
    const pending: Promise<unknown>[] = [];
    const sessions = manager({ waitUntil: (promise) => pending.push(promise) });
    await sessions.getOrCreateSession("user");
    expect(pending).toHaveLength(0); // creation is awaited, never deferred
    clock.advance(40);
    const renewed = await sessions.resolve("user");
    expect(renewed.lastActivityAt).toBe(clock.now());
    expect(pending).toHaveLength(1);
    await Promise.all(pending);
    expect((await sessions.getSessionInfo("user"))?.lastActivityAt).toBe(clock.now());
  });

  it("serves the session when a renewal write fails, and reports it", async () => {
    const errors: SessionError[] = [];
    let puts = 0;
    kv = countingKV(env.SESSIONS, () => ++puts > 1); // the creation lands, the renewal hits the write limit
    const sessions = manager({ onRenewalError: (error) => errors.push(error) });
    const first = await sessions.resolve("user");
    clock.advance(40);
    const served = await sessions.resolve("user");
    expect(served.sessionId).toBe(first.sessionId);
    expect(served.lastActivityAt).toBe(first.lastActivityAt); // not renewed: the write failed
    expect(errors.map((error) => error.code)).toEqual(["STORE_UNAVAILABLE"]);
    expect(errors[0]?.message).toMatch(/^\[threadline\] \[kv\] Could not write to Workers KV: .*429/);
  });

  it("rejects with STORE_UNAVAILABLE when a session cannot be created or read", async () => {
    kv = countingKV(env.SESSIONS, () => true);
    const sessions = manager();
    const error = await sessions.resolve("user").catch((caught: unknown) => caught);
    expect(SessionError.isInstance(error) && error.code).toBe("STORE_UNAVAILABLE");
    const unreachable = {
      get: () => Promise.reject(new Error("network down")),
      put: () => Promise.reject(new Error("network down")),
      list: () => Promise.reject(new Error("network down")),
      delete: () => Promise.reject(new Error("network down")),
    };
    const broken = new SessionManager({ store: kvStore({ binding: unreachable }) });
    await expect(broken.resolve("user")).rejects.toMatchObject({
      code: "STORE_UNAVAILABLE",
      message: expect.stringMatching(/network down/),
    });
  });

  it("rejects a value it did not write with STORE_ERROR", async () => {
    await env.SESSIONS.put(await sessionKey("threadline:", namespace, "user"), '{"not":"a session"}');
    await expect(manager().resolve("user")).rejects.toMatchObject({ code: "STORE_ERROR" });
  });
});

describe("concurrency (KV is not atomic)", () => {
  // What KV does, recorded rather than hidden. The README's trade-off section states it.
  it("lets 20 concurrent first requests each create a session; the last write wins", async () => {
    const sessions = manager({}, { idFormat: "uuid" });
    const results = await Promise.all(Array.from({ length: 20 }, () => sessions.resolve("user")));
    const created = results.filter((session) => session.isNew).length;
    const ids = new Set(results.map((session) => session.sessionId));
    // Every read happened before any write landed: in Miniflare all 20 created a session.
    expect(created).toBeGreaterThan(1);
    expect(ids.size).toBe(created);
    // Afterwards everyone converges on the session that was written last.
    const survivor = await sessions.getOrCreateSession("user");
    expect(ids).toContain(survivor);
    console.info(`kv race: 20 concurrent first requests -> ${created} created, ${ids.size} distinct ids`);
    expect(await sessions.getOrCreateSession("user")).toBe(survivor);
  });

  it("gives those concurrent first requests one id anyway with timestamp ids (same candidate, same second)", async () => {
    const sessions = manager();
    const results = await Promise.all(Array.from({ length: 20 }, () => sessions.resolve("user")));
    expect(new Set(results.map((session) => session.sessionId)).size).toBe(1);
    expect(results.filter((session) => session.isNew).length).toBeGreaterThan(1);
  });
});

describe("built per request", () => {
  it("costs no KV operation to build and keeps sessions across store instances", async () => {
    const request = () => new SessionManager({ store: kvStore({ binding: kv }), now: clock.now, namespace });
    const first = await request().getOrCreateSession("user");
    expect(kv.reads + kv.writes).toBe(2);
    for (let index = 0; index < 5; index++) request();
    expect(kv.reads + kv.writes).toBe(2);
    clock.advance(10);
    expect(await request().getOrCreateSession("user")).toBe(first);
  });
});

describe("list", () => {
  it("lists live sessions of a namespace whose key part is hashed", async () => {
    const longNamespace = `${"🙂".repeat(120)}${namespace}`;
    const sessions = manager({}, { namespace: longNamespace });
    for (const user of ["a", "b", "c"]) await sessions.getOrCreateSession(user);
    await sessions.closeSession("b");
    const store = kvStore({ binding: kv });
    const page = await store.list({ now: clock.now(), namespace: longNamespace });
    expect(page.sessions.map((session) => session.userId).sort()).toEqual(["a", "c"]);
    expect(page.sessions.every((session) => session.namespace === longNamespace)).toBe(true);
  });

  it("skips expired sessions without reading them", async () => {
    const sessions = manager({}, { inactivityTimeout: 10 });
    await sessions.getOrCreateSession("a");
    clock.advance(11);
    kv.reset();
    const page = await kvStore({ binding: kv }).list({ now: clock.now(), namespace });
    expect(page.sessions).toEqual([]);
    expect(kv.reads).toBe(0);
  });
});

describe("options", () => {
  it("rejects a missing binding with a hint about the wrangler config", () => {
    const env: Record<string, undefined> = {};
    expect(() => kvStore({ binding: env.MISSING as never })).toThrow(
      expect.objectContaining({ code: "INVALID_OPTION", message: expect.stringMatching(/kv_namespaces/) }),
    );
  });

  it.each([
    ["no options", () => kvStore(undefined as never)],
    ["the binding instead of options", () => kvStore(env.SESSIONS as never)],
  ])("rejects %s with INVALID_OPTION saying what to write", (_, build) => {
    expect(build).toThrow(
      expect.objectContaining({
        code: "INVALID_OPTION",
        source: "kv",
        message: expect.stringContaining("kvStore({ binding: env.SESSIONS })"),
      }),
    );
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY, "30"])("rejects renewAfter %s", (renewAfter) => {
    expect(() => kvStore({ binding: env.SESSIONS, renewAfter: renewAfter as number })).toThrow(
      expect.objectContaining({ code: "INVALID_OPTION" }),
    );
  });

  it("rejects a keyPrefix that would leave no room for keys", () => {
    expect(() => kvStore({ binding: env.SESSIONS, keyPrefix: "ã".repeat(65) })).toThrow(/keyPrefix/);
    expect(() => kvStore({ binding: env.SESSIONS, keyPrefix: "a".repeat(128) })).not.toThrow();
  });

  it("declares exact renewal only when every renewal is written", () => {
    expect(kvStore({ binding: env.SESSIONS }).capabilities).toEqual({
      atomic: false,
      exactRenewal: false,
      exactlyOnceEnds: false,
      history: false,
    });
    expect(kvStore({ binding: env.SESSIONS, renewAfter: 0 }).capabilities.exactRenewal).toBe(true);
  });
});

describe("lifecycle (best-effort: exactlyOnceEnds false, no history)", () => {
  function recording(storeOptions: Partial<KVStoreOptions> = {}, overrides: SessionManagerOptions = {}) {
    const ends: SessionEndEvent[] = [];
    const sessions = manager(storeOptions, {
      onSessionEnd: (end) => {
        ends.push(end);
      },
      ...overrides,
    });
    return { sessions, ends };
  }

  it("reports one expired session's end twice when two requests find it at once (no compare-and-set)", async () => {
    const first = recording();
    const second = recording();
    const expired = await first.sessions.resolve("user");
    clock.advance(121);
    await Promise.all([first.sessions.resolve("user"), second.sessions.resolve("user")]);
    await Promise.all([first.sessions.flush(), second.sessions.flush()]);
    const ends = [...first.ends, ...second.ends];
    // In Miniflare both reads happen before either write: both claim the same end.
    expect(ends).toHaveLength(2);
    expect(new Set(ends.map((end) => end.session.sessionId))).toEqual(new Set([expired.sessionId]));
    console.info(`kv: one expired session, two concurrent resolves -> ${ends.length} end events`);
  });

  it("misses an expired session's end once KV has collected the value (its TTL, at least 60 s)", async () => {
    const { sessions, ends } = recording({}, { inactivityTimeout: 10 });
    await sessions.resolve("user");
    clock.advance(11);
    await env.SESSIONS.delete(await sessionKey("threadline:", namespace, "user")); // what KV's TTL does
    const next = await sessions.resolve("user");
    await sessions.flush();
    expect(next.isNew).toBe(true);
    expect(next.previousSessionId).toBeUndefined();
    expect(ends).toEqual([]);
  });

  it("keeps an ended session's tombstone for the retention, so the next session links to it", async () => {
    const { sessions } = recording({ renewAfter: 0 }, { inactivityTimeout: 60, retention: 600 });
    const first = await sessions.resolve("user");
    await sessions.closeSession("user");
    expect(kv.puts.at(-1)?.expirationTtl).toBe(600);
    clock.advance(300);
    expect((await sessions.resolve("user")).previousSessionId).toBe(first.sessionId);
  });

  it("counts a throttled store's turns only in the renewals it writes, and every turn with maxTurns", async () => {
    const throttled = manager();
    await throttled.resolve("user");
    clock.advance(1);
    expect((await throttled.resolve("user")).turns).toBe(1); // not written: 1 s < renewAfter
    clock.advance(30);
    expect((await throttled.resolve("user")).turns).toBe(2);
    kv.reset();
    const limited = recording({}, { maxTurns: 3 });
    const first = await limited.sessions.resolve("other");
    for (let turn = 2; turn <= 3; turn++) {
      clock.advance(1);
      expect((await limited.sessions.resolve("other")).turns).toBe(turn);
    }
    expect(kv.writes).toBe(3);
    clock.advance(1);
    const next = await limited.sessions.resolve("other");
    await limited.sessions.flush();
    expect(next.previousSessionId).toBe(first.sessionId);
    expect(limited.ends).toEqual([expect.objectContaining({ reason: "max-turns", endedAt: clock.now() })]);
  });

  it("forgets a user by deleting the pair's key", async () => {
    const { sessions, ends } = recording();
    await sessions.resolve("user");
    await sessions.resolve("neighbour");
    expect(await sessions.forgetUser("user")).toBe(1);
    expect(await env.SESSIONS.get(await sessionKey("threadline:", namespace, "user"), "text")).toBeNull();
    expect(await sessions.forgetUser("user")).toBe(0);
    await sessions.flush();
    expect(ends.map((end) => end.reason)).toEqual(["forgotten"]);
    expect(await sessions.getSessionInfo("neighbour")).not.toBeNull();
  });

  it("lists a user's live session, and refuses ended ones (it keeps no history)", async () => {
    const sessions = manager();
    const session = await sessions.resolve("user");
    const page = await sessions.listSessions({ userId: "user" });
    expect(page.sessions).toEqual([expect.objectContaining({ sessionId: session.sessionId, status: "active" })]);
    await expect(sessions.listSessions({ userId: "user", status: "ended" })).rejects.toMatchObject({
      code: "UNSUPPORTED",
    });
    await expect(kvStore({ binding: kv }).list({ now: clock.now(), status: "all" })).rejects.toMatchObject({
      code: "UNSUPPORTED",
    });
  });

  it("has no sweep: ends by time are found at the pair's next resolve only", () => {
    expect(kvStore({ binding: env.SESSIONS }).sweep).toBeUndefined();
  });
});
