// Ids never repeat for a key while its stored value (session, tombstone or expired session) lives:
// quick forceNews within one second, and processes whose clocks lag, on both stores.
import { env } from "cloudflare:test";
import { SessionManager, type SessionStore } from "@threadline/session-core";
import { createFakeClock, uniqueNamespace } from "@threadline/session-core/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { durableObjectStore, kvStore } from "../src/index.js";

const stores: Array<[string, () => SessionStore]> = [
  ["durable-object", () => durableObjectStore({ namespace: env.SESSION_OBJECTS })],
  // Exact renewal, so sequential calls behave as on an atomic store (KV races are tested elsewhere).
  ["kv (renewAfter 0)", () => kvStore({ binding: env.SESSIONS, renewAfter: 0 })],
];

const step = fc.record({
  op: fc.constantFrom("resolve", "forceNew", "close"),
  lagging: fc.boolean(),
  advanceMs: fc.constantFrom(0, 1, 300, 999, 1_000, 121_000),
});

describe.each(stores)("session ids on %s", (_, createStore) => {
  it("never repeat within one second: five forceNews in the same millisecond", async () => {
    const clock = createFakeClock();
    const sessions = new SessionManager({ store: createStore(), now: clock.now, namespace: uniqueNamespace() });
    const ids = [await sessions.getOrCreateSession("user")];
    for (let index = 0; index < 4; index++) {
      ids.push((await sessions.resolve("user", undefined, { forceNew: true })).sessionId);
    }
    expect(new Set(ids).size).toBe(5);
  });

  it("never repeat when a Worker whose clock lags 2 s ends and creates sessions in between", async () => {
    const clock = createFakeClock();
    const namespace = uniqueNamespace();
    const onTime = new SessionManager({ store: createStore(), now: clock.now, namespace });
    const behind = new SessionManager({ store: createStore(), now: () => clock.now() - 2_000, namespace });
    const forceNew = { forceNew: true };
    const created = [
      await onTime.resolve("user"), // 12:00:00
      await behind.resolve("user", undefined, forceNew), // 11:59:58
      await onTime.resolve("user", undefined, forceNew), // 12:00:00 again
    ];
    await behind.closeSession("user");
    created.push(await onTime.resolve("user"));
    clock.advance(125); // expired on both clocks; the stored value still holds the history
    created.push(await behind.resolve("user"), await onTime.resolve("user", undefined, forceNew));
    expect(created.every((session) => session.isNew)).toBe(true);
    expect(new Set(created.map((session) => session.sessionId)).size).toBe(created.length);
  });

  it("never repeat when a process whose clock lags by up to 10 s creates sessions in between", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 10_000 }),
        fc.array(step, { minLength: 1, maxLength: 15 }),
        async (lagMs, steps) => {
          const clock = createFakeClock();
          const namespace = uniqueNamespace();
          // Two Workers sharing the store: one on time, one behind by lagMs.
          const onTime = new SessionManager({ store: createStore(), now: clock.now, namespace, cleanupInterval: 0 });
          const behind = new SessionManager({
            store: createStore(),
            now: () => clock.now() - lagMs,
            namespace,
            cleanupInterval: 0,
          });
          const seen = new Set<string>();
          for (const { op, lagging, advanceMs } of steps) {
            const sessions = lagging ? behind : onTime;
            if (op === "close") await sessions.closeSession("user");
            else {
              const session = await sessions.resolve("user", undefined, { forceNew: op === "forceNew" });
              if (session.isNew) {
                expect(seen.has(session.sessionId)).toBe(false);
                seen.add(session.sessionId);
              }
            }
            clock.set(clock.now() + advanceMs);
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});
