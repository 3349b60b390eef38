import fc from "fast-check";
import { expect } from "vitest";
import { SessionManager } from "../session-manager.js";
import type { SessionEndEvent, SessionEndReason, SessionStore } from "../store.js";
import { createFakeClock } from "./fake-clock.js";
import { uniqueNamespace } from "./unique-namespace.js";

// The reference model: what a store must hold for each key, in a few lines.
interface ModelSession {
  token: number;
  createdAt: number;
  lastActivityAt: number;
  expiresAt: number;
  deadline: number;
  turns: number;
  previousToken: number | undefined;
  /** Its end was claimed (closed, replaced, found by a resolve or a sweep). */
  ended: boolean;
  endedAt: number;
}

interface ModelEnd {
  token: number;
  reason: SessionEndReason;
  endedAt: number;
  keepUntil: number;
}

type Operation =
  | { kind: "resolve"; user: number; forceNew: boolean }
  | { kind: "touch"; user: number }
  | { kind: "close"; user: number }
  | { kind: "info"; user: number }
  | { kind: "list"; user: number }
  | { kind: "forget"; user: number }
  | { kind: "advance"; seconds: number }
  | { kind: "sweep" };

const users = ["alice", "a:b", "__proto__", "ação 🙂"];
const timeoutSeconds = 60;
// Limits the operations below reach: a few turns, a couple of timeouts, retention between them.
const maxTurns = 4;
const maxDurationSeconds = 150;
const retentionSeconds = 90;

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
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("list" as const), user: fc.nat(users.length - 1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("forget" as const), user: fc.nat(users.length - 1) }) },
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
 * an id it had before, every timestamp and turn count, every end event (reason, time, once),
 * the link to the previous session, the user's history listing and what `forgetUser` removes.
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
  const delivered: SessionEndEvent[] = [];
  // The model decides when to sweep, so the manager must not clean up on its own.
  const sessions = new SessionManager({
    store,
    now: clock.now,
    namespace,
    inactivityTimeout: timeoutSeconds,
    cleanupInterval: 0,
    maxTurns,
    maxDuration: maxDurationSeconds,
    retention: retentionSeconds,
    onSessionEnd: (event) => {
      delivered.push(event);
    },
  });
  const history = store.capabilities.history;
  const model = new Map<number, ModelSession>();
  const histories = new Map<number, ModelEnd[]>();
  const expectedEnds: Array<{ token: number; reason: SessionEndReason; endedAt: number }> = [];
  const idOfToken = new Map<number, string>();
  const idsSeen = new Map<number, Set<string>>();
  let nextToken = 0;

  const live = (user: number) => {
    const session = model.get(user);
    return session && !session.ended && clock.now() < session.expiresAt ? session : undefined;
  };
  const expiryAt = (now: number, session: ModelSession) => Math.min(now + timeoutSeconds * 1000, session.deadline);
  const timeReason = (session: ModelSession): SessionEndReason =>
    session.expiresAt >= session.deadline ? "max-duration" : "expired";
  const end = (user: number, session: ModelSession, reason: SessionEndReason, endedAt: number) => {
    session.ended = true;
    session.endedAt = endedAt;
    expectedEnds.push({ token: session.token, reason, endedAt });
    const keepUntil = endedAt + retentionSeconds * 1000;
    const kept = (histories.get(user) ?? []).filter((entry) => clock.now() < entry.keepUntil);
    if (keepUntil > clock.now()) kept.unshift({ token: session.token, reason, endedAt, keepUntil });
    histories.set(user, kept);
  };

  for (const step of operations) {
    const now = clock.now();
    const user = "user" in step ? (users[step.user] as string) : "";
    switch (step.kind) {
      case "resolve": {
        const actual = await sessions.resolve(user, undefined, { forceNew: step.forceNew });
        const current = model.get(step.user);
        let expected: ModelSession | undefined;
        let previousToken: number | undefined;
        if (current !== undefined && !current.ended) {
          if (now >= current.expiresAt) end(step.user, current, timeReason(current), current.expiresAt);
          else if (step.forceNew) end(step.user, current, "replaced", now);
          else if (current.turns >= maxTurns) end(step.user, current, "max-turns", now);
          else expected = current;
          if (expected === undefined) previousToken = current.token;
        } else if (current?.ended && now < current.endedAt + retentionSeconds * 1000) {
          previousToken = current.token;
        }
        const isNew = expected === undefined;
        if (expected === undefined) {
          expected = {
            token: nextToken++,
            createdAt: now,
            lastActivityAt: now,
            expiresAt: now,
            deadline: now + maxDurationSeconds * 1000,
            turns: 0,
            previousToken,
            ended: false,
            endedAt: 0,
          };
          model.set(step.user, expected);
        }
        expected.turns++;
        expected.lastActivityAt = now;
        expected.expiresAt = expiryAt(now, expected);
        expect(actual.isNew).toBe(isNew);
        expect(actual).toMatchObject({
          createdAt: expected.createdAt,
          lastActivityAt: now,
          expiresAt: expected.expiresAt,
          turns: expected.turns,
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
        const previous = expected.previousToken;
        expect(actual.previousSessionId).toBe(previous === undefined ? undefined : idOfToken.get(previous));
        break;
      }
      case "touch": {
        const expected = live(step.user);
        expect(await sessions.updateActivity(user)).toBe(expected !== undefined);
        if (expected) {
          expected.lastActivityAt = now;
          expected.expiresAt = expiryAt(now, expected);
        }
        break;
      }
      case "close": {
        const expected = live(step.user);
        expect(await sessions.closeSession(user)).toBe(expected !== undefined);
        if (expected) end(step.user, expected, "closed", now);
        break;
      }
      case "info": {
        const expected = live(step.user);
        const info = await sessions.getSessionInfo(user);
        if (expected === undefined) expect(info).toBeNull();
        else
          expect(info).toMatchObject({
            sessionId: idOfToken.get(expected.token),
            createdAt: expected.createdAt,
            lastActivityAt: expected.lastActivityAt,
            expiresAt: expected.expiresAt,
            turns: expected.turns,
          });
        break;
      }
      case "list": {
        if (!history) break;
        const listed = await sessions.listSessions({ userId: user, status: "all" });
        const expected: Array<[string | undefined, string, string | undefined, number | undefined]> = [];
        const current = model.get(step.user);
        if (current !== undefined && live(step.user) === current) {
          expected.push([idOfToken.get(current.token), "active", undefined, undefined]);
        } else if (current !== undefined && !current.ended && now < current.expiresAt + retentionSeconds * 1000) {
          expected.push([idOfToken.get(current.token), "ended", timeReason(current), current.expiresAt]);
        }
        for (const entry of histories.get(step.user) ?? []) {
          if (now < entry.keepUntil) expected.push([idOfToken.get(entry.token), "ended", entry.reason, entry.endedAt]);
        }
        expect(
          listed.sessions.map((session) => [session.sessionId, session.status, session.endReason, session.endedAt]),
        ).toEqual(expected);
        break;
      }
      case "forget": {
        if (store.forget === undefined) break;
        const current = model.get(step.user);
        let removed = history ? (histories.get(step.user) ?? []).filter((entry) => now < entry.keepUntil).length : 0;
        if (current !== undefined && !current.ended) {
          removed++;
          if (now >= current.expiresAt) end(step.user, current, timeReason(current), current.expiresAt);
          else end(step.user, current, "forgotten", now);
        }
        expect(await sessions.forgetUser(user)).toBe(removed);
        model.delete(step.user);
        histories.delete(step.user);
        // Forgetting erases the pair's id history with everything else; only atomic stores promise
        // never to repeat a forgotten id (a stale holder could otherwise reach the next session).
        if (!store.capabilities.atomic) idsSeen.delete(step.user);
        break;
      }
      case "advance":
        clock.advance(step.seconds);
        break;
      case "sweep": {
        if (store.sweep === undefined) break;
        let expired = 0;
        for (const [index, session] of model) {
          if (session.ended || session.expiresAt > now) continue;
          expired++;
          end(index, session, timeReason(session), session.expiresAt);
        }
        expect(await sessions.cleanupExpired()).toBe(expired);
        break;
      }
    }
    await sessions.flush();
    // Each end once; the order within one sweep is the store's.
    const sorted = (ends: Array<[string | undefined, string, number]>) => ends.map((end) => JSON.stringify(end)).sort();
    expect(sorted(delivered.map((event) => [event.session.sessionId, event.reason, event.endedAt]))).toEqual(
      sorted(expectedEnds.map((event) => [idOfToken.get(event.token), event.reason, event.endedAt])),
    );
  }
}
