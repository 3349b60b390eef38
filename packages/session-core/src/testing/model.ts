import fc from "fast-check";
import { expect } from "vitest";
import { SessionManager } from "../session-manager.js";
import type { SessionStore } from "../store.js";
import { createFakeClock } from "./fake-clock.js";
import { uniqueNamespace } from "./unique-namespace.js";

// The reference model: what a store must hold for each key, in a few lines.
interface ModelSession {
  token: number;
  createdAt: number;
  lastActivityAt: number;
  expiresAt: number;
  ended: boolean;
}

type Operation =
  | { kind: "resolve"; user: number; forceNew: boolean }
  | { kind: "touch"; user: number }
  | { kind: "close"; user: number }
  | { kind: "info"; user: number }
  | { kind: "advance"; seconds: number }
  | { kind: "sweep" };

const users = ["alice", "a:b", "__proto__", "ação 🙂"];
const timeoutSeconds = 60;

const operation: fc.Arbitrary<Operation> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("resolve" as const),
      user: fc.nat(users.length - 1),
      forceNew: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("touch" as const), user: fc.nat(users.length - 1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("close" as const), user: fc.nat(users.length - 1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("info" as const), user: fc.nat(users.length - 1) }) },
  // Steps around the timeout, including zero (same millisecond) and exact boundaries.
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("advance" as const),
      seconds: fc.constantFrom(0, 0.001, 1, 30, 59.999, 60, 61),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "sweep" as const }) },
);

/**
 * Drives random operation sequences through a SessionManager on the store and through a
 * tiny model, and checks after every step that both agree: which calls create sessions,
 * that an id stays the same exactly while the model's session does, that a key never gets
 * an id it had before, and every timestamp.
 */
export async function runModelBasedTest(options: ModelBasedTestOptions): Promise<void> {
  await fc.assert(
    fc.asyncProperty(fc.array(operation, { minLength: 1, maxLength: 40 }), async (operations) => {
      // A fresh store per run: a sweep acts on the whole store, and each run's clock starts over.
      const store = await options.createStore();
      try {
        await runOperations(store, operations);
      } finally {
        await (options.disposeStore ? options.disposeStore(store) : store.dispose?.());
      }
    }),
    { numRuns: options.numRuns },
  );
}

/** Options for {@link runModelBasedTest}. */
export interface ModelBasedTestOptions {
  createStore: () => SessionStore | Promise<SessionStore>;
  disposeStore?: (store: SessionStore) => unknown;
  numRuns: number;
}

async function runOperations(store: SessionStore, operations: Operation[]): Promise<void> {
  const clock = createFakeClock();
  const namespace = uniqueNamespace();
  // The model decides when to sweep, so the manager must not clean up on its own.
  const sessions = new SessionManager({
    store,
    now: clock.now,
    namespace,
    inactivityTimeout: timeoutSeconds,
    cleanupInterval: 0,
  });
  const model = new Map<number, ModelSession>();
  const idOfToken = new Map<number, string>();
  const idsSeen = new Map<number, Set<string>>();
  let nextToken = 0;

  const live = (user: number) => {
    const session = model.get(user);
    return session && !session.ended && clock.now() < session.expiresAt ? session : undefined;
  };

  for (const step of operations) {
    const now = clock.now();
    switch (step.kind) {
      case "resolve": {
        const actual = await sessions.resolve(users[step.user] as string, undefined, { forceNew: step.forceNew });
        let expected = step.forceNew ? undefined : live(step.user);
        const isNew = expected === undefined;
        if (expected === undefined) {
          expected = { token: nextToken++, createdAt: now, lastActivityAt: now, expiresAt: now, ended: false };
          model.set(step.user, expected);
        }
        expected.lastActivityAt = now;
        expected.expiresAt = now + timeoutSeconds * 1000;
        expect(actual.isNew).toBe(isNew);
        expect(actual).toMatchObject({
          createdAt: expected.createdAt,
          lastActivityAt: now,
          expiresAt: expected.expiresAt,
        });
        if (isNew) {
          const seen = idsSeen.get(step.user) ?? new Set();
          expect(seen.has(actual.sessionId)).toBe(false);
          seen.add(actual.sessionId);
          idsSeen.set(step.user, seen);
          idOfToken.set(expected.token, actual.sessionId);
        } else {
          expect(actual.sessionId).toBe(idOfToken.get(expected.token));
        }
        break;
      }
      case "touch": {
        const expected = live(step.user);
        expect(await sessions.updateActivity(users[step.user] as string)).toBe(expected !== undefined);
        if (expected) {
          expected.lastActivityAt = now;
          expected.expiresAt = now + timeoutSeconds * 1000;
        }
        break;
      }
      case "close": {
        const expected = live(step.user);
        expect(await sessions.closeSession(users[step.user] as string)).toBe(expected !== undefined);
        if (expected) expected.ended = true;
        break;
      }
      case "info": {
        const expected = live(step.user);
        const info = await sessions.getSessionInfo(users[step.user] as string);
        if (expected === undefined) expect(info).toBeNull();
        else
          expect(info).toMatchObject({
            sessionId: idOfToken.get(expected.token),
            createdAt: expected.createdAt,
            lastActivityAt: expected.lastActivityAt,
            expiresAt: expected.expiresAt,
          });
        break;
      }
      case "advance":
        clock.advance(step.seconds);
        break;
      case "sweep": {
        if (store.sweep === undefined) break;
        let expired = 0;
        for (const [user, session] of model) {
          if (session.expiresAt > now) continue;
          if (!session.ended) expired++;
          model.delete(user);
        }
        expect(await sessions.cleanupExpired()).toBe(expired);
        break;
      }
    }
  }
}
