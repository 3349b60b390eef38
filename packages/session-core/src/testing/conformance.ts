import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SessionError } from "../errors.js";
import { SessionManager, type SessionManagerOptions } from "../session-manager.js";
import type { ListPage, ListRequest, SessionStore } from "../store.js";
import { describeItemChangeCases } from "./conformance-items.js";
import { describeLifecycleCases } from "./conformance-lifecycle.js";
import { describeRunCases } from "./conformance-runs.js";
import { createFakeClock, type FakeClock } from "./fake-clock.js";
import { hostileIds, invalidUserIds } from "./hostile-ids.js";
import { runModelBasedTest } from "./model.js";
import { runItemsModelTest } from "./model-items.js";
import { uniqueNamespace } from "./unique-namespace.js";

/** Options for {@link describeSessionStore}. */
export interface SessionStoreSuiteOptions {
  /**
   * Builds the store for one test. Called before every test; tests use fresh random
   * namespaces, so a store over a shared backend needs no flushing between them.
   */
  createStore: () => SessionStore | Promise<SessionStore>;
  /** Runs after every test, e.g. to dispose the store. Default: `store.dispose?.()`. */
  disposeStore?: (store: SessionStore) => unknown;
  /** Concurrent first calls in the race test. Default 50. */
  concurrency?: number;
  /** Runs of the model-based property test. Default 50. */
  propertyRuns?: number;
}

/**
 * The store conformance suite: registers, under `describe(name)`, every behaviour the
 * SessionStore contract promises. Cases that need a capability the store does not declare
 * (or an optional method it lacks) are registered as skipped, so the report shows them.
 *
 * @example
 * describeSessionStore("memory", { createStore: () => memoryStore() });
 */
export function describeSessionStore(name: string, options: SessionStoreSuiteOptions): void {
  describe(`SessionStore conformance: ${name}`, () => {
    let store: SessionStore;
    let clock: FakeClock;
    let namespace: string;

    function manager(overrides: SessionManagerOptions = {}): SessionManager {
      // No background cleanup: the cases count what cleanupExpired removes themselves.
      return new SessionManager({ store, now: clock.now, namespace, cleanupInterval: 0, ...overrides });
    }

    beforeEach(async () => {
      store = await options.createStore();
      clock = createFakeClock();
      namespace = uniqueNamespace();
    });

    afterEach(async () => {
      await (options.disposeStore ? options.disposeStore(store) : store.dispose?.());
    });

    // Skips happen inside the test via `context.skip`, so the report lists every skipped case.
    const capabilities = async () => store.capabilities;

    describe("lifecycle", () => {
      it("creates a session with the guide's id format on first use", async () => {
        const sessions = manager();
        const session = await sessions.resolve("user-123");
        expect(session.isNew).toBe(true);
        expect(session.sessionId).toBe(`${namespace}-user-123-20250107-120000`);
        expect(session).toMatchObject({ namespace, userId: "user-123", createdAt: clock.now() });
        expect(session.lastActivityAt).toBe(clock.now());
        expect(session.expiresAt).toBe(clock.now() + 120_000);
      });

      it("keeps the id while the user is active and renews the session", async () => {
        const sessions = manager();
        const first = await sessions.resolve("user-123");
        clock.advance(30);
        const second = await sessions.resolve("user-123");
        expect(second.sessionId).toBe(first.sessionId);
        expect(second.isNew).toBe(false);
        expect(second.createdAt).toBe(first.createdAt);
        if ((await capabilities()).exactRenewal) {
          expect(second.lastActivityAt).toBe(clock.now());
          expect(second.expiresAt).toBe(clock.now() + 120_000);
        }
      });

      it("is live until just before lastActivity + timeout and new at exactly that moment", async () => {
        const sessions = manager();
        const first = await sessions.getOrCreateSession("user-123");
        clock.advance(119.999);
        expect(await sessions.getSessionInfo("user-123")).not.toBeNull();
        clock.advance(0.001);
        expect(await sessions.getSessionInfo("user-123")).toBeNull();
        const next = await sessions.resolve("user-123");
        expect(next.isNew).toBe(true);
        expect(next.sessionId).not.toBe(first);
        expect(next.sessionId).toBe(`${namespace}-user-123-20250107-120200`);
      });

      it("slides the expiry with every activity", async () => {
        const sessions = manager();
        const first = await sessions.getOrCreateSession("user-123");
        for (let turn = 0; turn < 5; turn++) {
          clock.advance(100);
          expect(await sessions.getOrCreateSession("user-123")).toBe(first);
        }
        clock.advance(120);
        expect(await sessions.getOrCreateSession("user-123")).not.toBe(first);
      });

      it("applies each manager's own timeout on a shared store", async () => {
        const short = manager({ inactivityTimeout: 30, namespace: `${namespace}-short` });
        const long = manager({ inactivityTimeout: 300, namespace: `${namespace}-long` });
        const shortId = await short.getOrCreateSession("user");
        const longId = await long.getOrCreateSession("user");
        clock.advance(31);
        expect(await short.getOrCreateSession("user")).not.toBe(shortId);
        expect(await long.getOrCreateSession("user")).toBe(longId);
      });
    });

    describe("ending sessions", () => {
      it("forceNew ends the live session and gives a different id within the same millisecond", async () => {
        const sessions = manager();
        const ids = new Set<string>();
        ids.add(await sessions.getOrCreateSession("user-123"));
        for (let index = 0; index < 4; index++) {
          const session = await sessions.resolve("user-123", undefined, { forceNew: true });
          expect(session.isNew).toBe(true);
          ids.add(session.sessionId);
        }
        expect(ids.size).toBe(5);
        expect((await sessions.getSessionInfo("user-123"))?.sessionId).toBe([...ids].at(-1));
      });

      it("closeSession ends the session and the next one gets a different id, same millisecond", async () => {
        const sessions = manager();
        const first = await sessions.getOrCreateSession("user-123");
        expect(await sessions.closeSession("user-123")).toBe(true);
        expect(await sessions.getSessionInfo("user-123")).toBeNull();
        expect(await sessions.closeSession("user-123")).toBe(false);
        const second = await sessions.resolve("user-123");
        expect(second.isNew).toBe(true);
        expect(second.sessionId).not.toBe(first);
        expect(await sessions.closeSession("user-123")).toBe(true);
        const third = await sessions.getOrCreateSession("user-123");
        expect(new Set([first, second.sessionId, third]).size).toBe(3);
      });

      it("closeSession with a sessionId ends only that session, never a newer one", async () => {
        const sessions = manager();
        const old = await sessions.getOrCreateSession("user-123");
        const current = await sessions.resolve("user-123", undefined, { forceNew: true });
        expect(await sessions.closeSession("user-123", undefined, { sessionId: old })).toBe(false);
        expect((await sessions.getSessionInfo("user-123"))?.sessionId).toBe(current.sessionId);
        expect(await sessions.closeSession("user-123", undefined, { sessionId: current.sessionId })).toBe(true);
        expect(await sessions.getSessionInfo("user-123")).toBeNull();
      });

      it("closeSession of a user without a session returns false and creates nothing", async () => {
        const sessions = manager();
        expect(await sessions.closeSession("nobody")).toBe(false);
        expect(await sessions.getSessionInfo("nobody")).toBeNull();
      });
    });

    describe("updateActivity and getSessionInfo", () => {
      it("updateActivity renews a live session and never creates one", async () => {
        const sessions = manager();
        expect(await sessions.updateActivity("user-123")).toBe(false);
        expect(await sessions.getSessionInfo("user-123")).toBeNull();
        const id = await sessions.getOrCreateSession("user-123");
        clock.advance(100);
        expect(await sessions.updateActivity("user-123")).toBe(true);
        clock.advance(100);
        expect(await sessions.getOrCreateSession("user-123")).toBe(id);
        clock.advance(120);
        expect(await sessions.updateActivity("user-123")).toBe(false);
      });

      it("getSessionInfo reports age and idle time in seconds without renewing", async () => {
        const sessions = manager();
        const id = await sessions.getOrCreateSession("user-123");
        clock.advance(45);
        const info = await sessions.getSessionInfo("user-123");
        expect(info).toMatchObject({ sessionId: id, userId: "user-123", namespace, duration: 45, inactiveFor: 45 });
        expect(info?.createdAt).toBe(clock.now() - 45_000);
        if ((await capabilities()).exactRenewal) expect(info?.expiresAt).toBe(clock.now() + 75_000);
        clock.advance(75);
        expect(await sessions.getSessionInfo("user-123")).toBeNull();
      });
    });

    describe("keys", () => {
      it("keeps namespaces apart", async () => {
        const support = manager({ namespace: `${namespace}-support` });
        const sales = manager({ namespace: `${namespace}-sales` });
        const a = await support.resolve("user-123");
        const b = await sales.resolve("user-123");
        expect(a.isNew && b.isNew).toBe(true);
        expect(a.sessionId).not.toBe(b.sessionId);
        expect(await support.closeSession("user-123")).toBe(true);
        expect((await sales.getSessionInfo("user-123"))?.sessionId).toBe(b.sessionId);
      });

      it('never confuses ("a-b", "c") with ("a", "b-c")', async () => {
        const sessions = manager();
        const left = await sessions.resolve("c", `${namespace}-a-b`);
        const right = await sessions.resolve("b-c", `${namespace}-a`);
        expect(left.isNew && right.isNew).toBe(true);
        expect(await sessions.closeSession("c", `${namespace}-a-b`)).toBe(true);
        expect(await sessions.getSessionInfo("b-c", `${namespace}-a`)).toMatchObject({ userId: "b-c" });
      });

      it("round-trips hostile ids unchanged and keeps each apart", async () => {
        const sessions = manager({ idFormat: "uuid" });
        const byUser = new Map<string, string>();
        for (const userId of hostileIds) {
          const session = await sessions.resolve(userId);
          expect(session.isNew).toBe(true);
          expect(session.userId).toBe(userId);
          byUser.set(userId, session.sessionId);
        }
        for (const userId of hostileIds) {
          const info = await sessions.getSessionInfo(userId);
          expect(info?.userId).toBe(userId);
          expect(info?.namespace).toBe(namespace);
          expect(info?.sessionId).toBe(byUser.get(userId));
        }
        for (const hostileNamespace of hostileIds) {
          const session = await sessions.resolve("user", hostileNamespace.slice(0, 200) + namespace);
          expect(session.namespace).toBe(hostileNamespace.slice(0, 200) + namespace);
          expect(session.isNew).toBe(true);
        }
      });

      it.each(invalidUserIds)("rejects a $label user id with $code and stores nothing", async ({ value, code }) => {
        const sessions = manager();
        const error = await sessions.resolve(value as string).catch((caught: unknown) => caught);
        expect(SessionError.isInstance(error)).toBe(true);
        expect((error as SessionError).code).toBe(code);
        const listed = await listNamespace(store, { now: clock.now(), namespace });
        if (listed !== undefined) expect(listed.sessions).toEqual([]);
      });
    });

    describe("concurrency", () => {
      it("gives concurrent first calls for one user exactly one session", async (context) => {
        if (!(await capabilities()).atomic) return context.skip("store is not atomic");
        const sessions = manager();
        const calls = Array.from({ length: options.concurrency ?? 50 }, () => sessions.resolve("user-123"));
        const results = await Promise.all(calls);
        expect(new Set(results.map((session) => session.sessionId)).size).toBe(1);
        expect(results.filter((session) => session.isNew)).toHaveLength(1);
      });

      it("gives a storm of concurrent forceNew calls distinct ids and one surviving session", async (context) => {
        if (!(await capabilities()).atomic) return context.skip("store is not atomic");
        const sessions = manager();
        const count = options.concurrency ?? 50;
        const calls = Array.from({ length: count }, () => sessions.resolve("user-123", undefined, { forceNew: true }));
        const ids = (await Promise.all(calls)).map((session) => session.sessionId);
        expect(new Set(ids).size).toBe(count);
        const survivor = await sessions.getSessionInfo("user-123");
        expect(ids).toContain(survivor?.sessionId);
      });
      it("never hands a pair an id twice, even from a process whose clock lags", async () => {
        // Two processes share the store; the second's clock is 2 s behind, so it proposes ids
        // of seconds the first already used. Quick forceNews from both, a close and an expiry
        // in between: every id the pair sees must be new.
        const lagging = createFakeClock(clock.now() - 2_000);
        const onTime = manager({ inactivityTimeout: 10 });
        const late = manager({ inactivityTimeout: 10, now: lagging.now });
        const seen = new Set<string>();
        for (let step = 0; step < 20; step++) {
          const sessions = step % 5 === 0 ? onTime : late;
          const id = await sessions.getOrCreateSession("user-123", undefined, { forceNew: true });
          expect(seen.has(id)).toBe(false);
          seen.add(id);
          if (step === 7) await onTime.closeSession("user-123");
          const seconds = step === 12 ? 11 : 0.5; // one quiet spell longer than the timeout
          clock.advance(seconds);
          lagging.advance(seconds);
        }
      });
    });

    describe("cleanup", () => {
      it("cleanupExpired removes exactly the expired sessions", async (context) => {
        if (store.sweep === undefined) return context.skip("store has no sweep (native expiry)");
        const short = manager({ inactivityTimeout: 30 });
        await short.getOrCreateSession("a");
        await short.getOrCreateSession("b");
        await short.getOrCreateSession("closed");
        await short.closeSession("closed");
        clock.advance(20);
        await short.getOrCreateSession("c");
        clock.advance(15);
        expect(await short.cleanupExpired()).toBe(2);
        expect(await short.cleanupExpired()).toBe(0);
        expect(await short.getSessionInfo("c")).not.toBeNull();
      });

      it("cleanupExpired is a harmless no-op on stores without sweep", async (context) => {
        if (store.sweep !== undefined) return context.skip("store has a sweep");
        const sessions = manager();
        await sessions.getOrCreateSession("a");
        expect(await sessions.cleanupExpired()).toBe(0);
        expect(await sessions.getSessionInfo("a")).not.toBeNull();
      });
    });

    describe("list", () => {
      it("pages through the live sessions of a namespace", async (context) => {
        const list = store.list?.bind(store);
        if (list === undefined) return context.skip("store has no list");
        if ((await listNamespace(store, { now: clock.now(), namespace })) === undefined) {
          return context.skip("store lists by user only");
        }
        const sessions = manager();
        const users = Array.from({ length: 7 }, (_, index) => `user-${index}`);
        for (const user of users) await sessions.getOrCreateSession(user);
        await sessions.closeSession("user-0");
        const seen: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await list({ now: clock.now(), namespace, limit: 3, ...(cursor ? { cursor } : {}) });
          seen.push(...page.sessions.map((session) => session.userId));
          cursor = page.cursor;
        } while (cursor !== undefined);
        expect(seen.sort()).toEqual(users.slice(1));
      });
    });

    describe("conversation items", () => {
      it("appends, lists, pops and clears the items of a session", async (context) => {
        if (store.items === undefined) return context.skip("store keeps no items");
        const sessions = manager();
        const session = await sessions.resolve("user-123");
        await sessions.addItems(session, [{ role: "user", content: "hi" }]);
        await sessions.addItems(session, [{ role: "assistant", content: "hello" }, { n: 3 }]);
        expect(await sessions.getItems(session)).toEqual([
          { role: "user", content: "hi" },
          { role: "assistant", content: "hello" },
          { n: 3 },
        ]);
        expect(await sessions.getItems(session, 2)).toEqual([{ role: "assistant", content: "hello" }, { n: 3 }]);
        expect(await sessions.popItem(session)).toEqual({ n: 3 });
        await sessions.clearItems(session);
        expect(await sessions.getItems(session)).toEqual([]);
        expect(await sessions.popItem(session)).toBeUndefined();
      });

      it("stores items as JSON and keeps users apart", async (context) => {
        if (store.items === undefined) return context.skip("store keeps no items");
        const sessions = manager();
        const alice = await sessions.resolve("alice");
        const bob = await sessions.resolve("bob");
        await sessions.addItems(alice, [{ at: new Date(0), skip: undefined }]);
        expect(await sessions.getItems(alice)).toEqual([{ at: "1970-01-01T00:00:00.000Z" }]);
        expect(await sessions.getItems(bob)).toEqual([]);
      });

      it("starts a new session with no items and refuses writes to an ended one", async (context) => {
        if (store.items === undefined) return context.skip("store keeps no items");
        const sessions = manager();
        const first = await sessions.resolve("user-123");
        await sessions.addItems(first, ["remember me"]);
        clock.advance(120);
        const second = await sessions.resolve("user-123");
        expect(await sessions.getItems(second)).toEqual([]);
        expect(await sessions.getItems(first)).toEqual([]);
        const late = await sessions.addItems(first, ["too late"]).catch((error: unknown) => error);
        expect((late as SessionError).code).toBe("SESSION_ENDED");
        await sessions.addItems(second, ["fresh"]);
        await sessions.closeSession("user-123");
        expect(await sessions.getItems(second)).toEqual([]);
      });

      it("rejects items that are not JSON and stores none of the batch", async (context) => {
        if (store.items === undefined) return context.skip("store keeps no items");
        const sessions = manager();
        const session = await sessions.resolve("user-123");
        const circular: Record<string, unknown> = {};
        circular.self = circular;
        const error = await sessions.addItems(session, ["ok", circular]).catch((caught: unknown) => caught);
        expect((error as SessionError).code).toBe("INVALID_ITEMS");
        expect(await sessions.getItems(session)).toEqual([]);
      });
    });

    describeLifecycleCases(() => ({ store, clock, namespace, manager }));
    describeItemChangeCases(() => ({ store, clock, manager }));
    describeRunCases(() => ({ store, clock, manager }));

    describe("model-based", () => {
      it("matches a reference model over random operation sequences", async (context) => {
        if (!(await capabilities()).exactRenewal) return context.skip("renewal is not exact; the model assumes it is");
        await runModelBasedTest({ ...options, numRuns: options.propertyRuns ?? 50 });
      });

      it("matches a reference model of item changes, bounds and operation ids", async (context) => {
        if (store.items?.apply === undefined) return context.skip("store items have no apply");
        await runItemsModelTest({ ...options, numRuns: options.propertyRuns ?? 50 });
      });
    });
  });
}

/** A namespace's listing, or `undefined` when the store has no list or lists by user only (`UNSUPPORTED`). */
async function listNamespace(store: SessionStore, request: ListRequest): Promise<ListPage | undefined> {
  if (store.list === undefined) return undefined;
  try {
    return await store.list(request);
  } catch (error) {
    if (SessionError.isInstance(error) && error.code === "UNSUPPORTED") return undefined;
    throw error;
  }
}
