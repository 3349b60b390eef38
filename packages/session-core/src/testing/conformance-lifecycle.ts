import { describe, expect, it } from "vitest";
import type { SessionStartEvent } from "../lifecycle.js";
import type { SessionManager, SessionManagerOptions } from "../session-manager.js";
import type { SessionEndEvent, SessionStore, SessionSummary } from "../store.js";
import type { FakeClock } from "./fake-clock.js";

/** What a lifecycle case needs from the suite around it, read when the case runs. */
export interface LifecycleSuiteState {
  store: SessionStore;
  clock: FakeClock;
  namespace: string;
  manager(overrides?: SessionManagerOptions): SessionManager;
}

/** A manager that records its lifecycle events in delivery order. */
function recording(state: LifecycleSuiteState, overrides: SessionManagerOptions = {}) {
  const events: Array<{ kind: "start"; event: SessionStartEvent } | { kind: "end"; event: SessionEndEvent }> = [];
  const sessions = state.manager({
    onSessionStart: (event) => {
      events.push({ kind: "start", event });
    },
    onSessionEnd: (event) => {
      events.push({ kind: "end", event });
    },
    ...overrides,
  });
  const ends = () => events.flatMap((entry) => (entry.kind === "end" ? [entry.event] : []));
  const starts = () => events.flatMap((entry) => (entry.kind === "start" ? [entry.event] : []));
  return { sessions, events, ends, starts };
}

async function allPages(
  sessions: SessionManager,
  options: Parameters<SessionManager["listSessions"]>[0],
): Promise<SessionSummary[]> {
  const all: SessionSummary[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await sessions.listSessions({ ...options, ...(cursor === undefined ? {} : { cursor }) });
    all.push(...page.sessions);
    cursor = page.cursor;
    expect(++pages).toBeLessThan(1000);
  } while (cursor !== undefined);
  return all;
}

/**
 * The lifecycle cases of the conformance suite: turns, time and turn limits, end events with
 * their reasons and order, exactly-once delivery, history and erasure. Registered by
 * `describeSessionStore`; cases a store's capabilities rule out are skipped with the reason.
 */
export function describeLifecycleCases(state: () => LifecycleSuiteState): void {
  describe("session lifecycle", () => {
    it("counts turns: creation is turn 1, each resolve one more, touch none", async (context) => {
      const { manager, clock, store } = state();
      if (!store.capabilities.exactRenewal) return context.skip("renewal (and so each turn) is not stored exactly");
      const sessions = manager();
      expect((await sessions.resolve("user")).turns).toBe(1);
      clock.advance(1);
      expect((await sessions.resolve("user")).turns).toBe(2);
      await sessions.updateActivity("user");
      expect((await sessions.getSessionInfo("user"))?.turns).toBe(2);
      expect((await sessions.resolve("user")).turns).toBe(3);
    });

    it("ends a session at maxTurns + 1 with reason max-turns, before the next one starts", async () => {
      const { clock } = state();
      const { sessions, events } = recording(state(), { maxTurns: 2 });
      const first = await sessions.resolve("user");
      clock.advance(1);
      expect((await sessions.resolve("user")).sessionId).toBe(first.sessionId);
      clock.advance(1);
      const second = await sessions.resolve("user");
      expect(second.isNew).toBe(true);
      expect(second.sessionId).not.toBe(first.sessionId);
      expect(second.previousSessionId).toBe(first.sessionId);
      expect(second.turns).toBe(1);
      await sessions.flush();
      expect(events.map((entry) => entry.kind)).toEqual(["start", "end", "start"]);
      expect(events[1]?.event).toMatchObject({
        reason: "max-turns",
        endedAt: clock.now(),
        session: { sessionId: first.sessionId, turns: 2 },
      });
      expect(events[2]?.event).toMatchObject({
        previousSessionId: first.sessionId,
        session: { sessionId: second.sessionId },
      });
    });

    it("ends a session at createdAt + maxDuration however active, with reason max-duration", async () => {
      const { clock, store } = state();
      const { sessions, ends } = recording(state(), { maxDuration: 300 });
      const first = await sessions.resolve("user");
      for (let minute = 1; minute <= 4; minute++) {
        clock.advance(60);
        expect((await sessions.resolve("user")).sessionId).toBe(first.sessionId);
      }
      clock.advance(59);
      const capped = await sessions.resolve("user");
      expect(capped.sessionId).toBe(first.sessionId);
      if (store.capabilities.exactRenewal) expect(capped.expiresAt).toBe(first.createdAt + 300_000);
      clock.advance(1);
      expect(await sessions.getSessionInfo("user")).toBeNull();
      const second = await sessions.resolve("user");
      expect(second.isNew).toBe(true);
      expect(second.previousSessionId).toBe(first.sessionId);
      await sessions.flush();
      expect(ends()).toEqual([expect.objectContaining({ reason: "max-duration", endedAt: first.createdAt + 300_000 })]);
    });

    it("reports an expired session's end at the pair's next resolve: reason expired, endedAt its expiry", async () => {
      const { clock } = state();
      const { sessions, events, starts } = recording(state());
      const first = await sessions.resolve("user");
      clock.advance(30);
      await sessions.resolve("user");
      clock.advance(500);
      const second = await sessions.resolve("user");
      expect(second.previousSessionId).toBe(first.sessionId);
      await sessions.flush();
      expect(events.map((entry) => entry.kind)).toEqual(["start", "end", "start"]);
      expect(events[1]?.event).toEqual({
        reason: "expired",
        endedAt: first.createdAt + 30_000 + 120_000,
        session: expect.objectContaining({ sessionId: first.sessionId, userId: "user", turns: 2 }),
      });
      expect(starts()[0]).toEqual({ session: expect.objectContaining({ sessionId: first.sessionId, isNew: true }) });
      expect(starts()[1]?.previousSessionId).toBe(first.sessionId);
      // The manager hands the caller the session, not the store's end bookkeeping.
      expect(second).not.toHaveProperty("ended");
    });

    it("reports forceNew as replaced and closeSession as closed, each once", async () => {
      const { clock } = state();
      const { sessions, ends } = recording(state());
      const first = await sessions.resolve("user");
      const second = await sessions.resolve("user", undefined, { forceNew: true });
      expect(await sessions.closeSession("user")).toBe(true);
      expect(await sessions.closeSession("user")).toBe(false);
      clock.advance(1);
      const third = await sessions.resolve("user");
      await sessions.flush();
      expect(ends().map((end) => [end.session.sessionId, end.reason, end.endedAt])).toEqual([
        [first.sessionId, "replaced", first.createdAt],
        [second.sessionId, "closed", first.createdAt],
      ]);
      expect(third.previousSessionId).toBeUndefined(); // retention 0: the closed one is not remembered
    });

    it("cleanupExpired delivers each expired session's end once; the next resolve does not repeat it", async (context) => {
      const { clock, store } = state();
      if (store.sweep === undefined) return context.skip("store has no sweep: ends are found at the next resolve");
      const { sessions, ends } = recording(state());
      await sessions.resolve("a");
      await sessions.resolve("b");
      clock.advance(120);
      expect(await sessions.cleanupExpired()).toBe(2);
      expect(await sessions.cleanupExpired()).toBe(0);
      const next = await sessions.resolve("a");
      expect(next.isNew).toBe(true);
      expect(next.previousSessionId).toBeUndefined();
      await sessions.flush();
      expect(
        ends()
          .map((end) => `${end.session.userId}:${end.reason}`)
          .sort(),
      ).toEqual(["a:expired", "b:expired"]);
    });

    it("delivers one end per session when managers race resolves and cleanups", async (context) => {
      const { clock, store } = state();
      if (!store.capabilities.exactlyOnceEnds) return context.skip("store does not claim ends exactly once");
      const ends: SessionEndEvent[] = [];
      const onSessionEnd = (event: SessionEndEvent) => {
        ends.push(event);
      };
      const managers = [0, 1, 2].map(() => state().manager({ onSessionEnd }));
      const users = ["u0", "u1", "u2", "u3", "u4"];
      const created = new Set<string>();
      for (let round = 0; round < 4; round++) {
        const calls = managers.flatMap((sessions) => [
          ...users.map((user) => sessions.resolve(user).then((session) => created.add(session.sessionId))),
          sessions.cleanupExpired(),
        ]);
        await Promise.all(calls);
        clock.advance(121);
      }
      await Promise.all(managers.map((sessions) => sessions.cleanupExpired()));
      await Promise.all(managers.map((sessions) => sessions.flush()));
      const endedIds = ends.map((end) => end.session.sessionId);
      if (store.sweep !== undefined) expect(endedIds.sort()).toEqual([...created].sort());
      else expect(new Set(endedIds).size).toBe(endedIds.length);
      expect(created.size).toBe(users.length * 4);
    });

    it("never fails a resolve when a lifecycle callback throws or rejects; onError gets it", async () => {
      const { clock } = state();
      const failures: Array<{ message: string; operation: string; sessionId?: string | undefined }> = [];
      const sessions = state().manager({
        onSessionStart: () => {
          throw new Error("start failed");
        },
        onSessionEnd: async () => {
          throw new Error("end failed");
        },
        onError: (error, context) => {
          failures.push({ message: error.message, operation: context.operation, sessionId: context.sessionId });
        },
      });
      const first = await sessions.resolve("user");
      clock.advance(120);
      const second = await sessions.resolve("user");
      await sessions.flush();
      // A rejection arrives a few microtasks after a throw, so compare without order.
      expect(failures).toHaveLength(3);
      expect(failures).toEqual(
        expect.arrayContaining([
          { message: "start failed", operation: "onSessionStart", sessionId: first.sessionId },
          { message: "end failed", operation: "onSessionEnd", sessionId: first.sessionId },
          { message: "start failed", operation: "onSessionStart", sessionId: second.sessionId },
        ]),
      );
    });

    describe("history", () => {
      it("lists a user's sessions, newest first, with status, end reason and times", async (context) => {
        const { clock, store } = state();
        if (!store.capabilities.history) return context.skip("store keeps no history");
        const sessions = state().manager({ retention: 3600, maxTurns: 3 });
        const first = await sessions.resolve("user");
        clock.advance(10);
        await sessions.closeSession("user");
        clock.advance(1);
        const second = await sessions.resolve("user");
        expect(second.previousSessionId).toBe(first.sessionId); // ended within the retention
        clock.advance(200);
        const third = await sessions.resolve("user");
        await sessions.resolve("other");
        const all = await sessions.listSessions({ userId: "user", status: "all" });
        expect(all.cursor).toBeUndefined();
        expect(all.sessions.map((session) => [session.sessionId, session.status, session.endReason])).toEqual([
          [third.sessionId, "active", undefined],
          [second.sessionId, "ended", "expired"],
          [first.sessionId, "ended", "closed"],
        ]);
        expect(all.sessions[1]).toMatchObject({ endedAt: second.createdAt + 120_000, turns: 1 });
        expect(all.sessions[2]).toMatchObject({ endedAt: first.createdAt + 10_000 });
        const active = await sessions.listSessions({ userId: "user" });
        expect(active.sessions.map((session) => session.sessionId)).toEqual([third.sessionId]);
        const ended = await sessions.listSessions({ userId: "user", status: "ended" });
        expect(ended.sessions.map((session) => session.sessionId)).toEqual([second.sessionId, first.sessionId]);
      });

      it("drops an ended session from history once its retention has passed, and never makes it live", async (context) => {
        const { clock, store } = state();
        if (!store.capabilities.history) return context.skip("store keeps no history");
        const sessions = state().manager({ retention: 60 });
        const first = await sessions.resolve("user");
        await sessions.closeSession("user");
        expect(await sessions.getSessionInfo("user")).toBeNull();
        expect(await sessions.updateActivity("user")).toBe(false);
        if (store.items !== undefined) {
          await expect(sessions.addItems(first, ["late"])).rejects.toMatchObject({ code: "SESSION_ENDED" });
        }
        clock.advance(59.999);
        expect((await sessions.listSessions({ userId: "user", status: "ended" })).sessions).toHaveLength(1);
        clock.advance(0.001);
        await sessions.cleanupExpired();
        expect((await sessions.listSessions({ userId: "user", status: "all" })).sessions).toEqual([]);
        const next = await sessions.resolve("user");
        expect(next.previousSessionId).toBeUndefined();
        expect(next.sessionId).not.toBe(first.sessionId);
      });

      it("keeps expired sessions found by a cleanup, and links the next session to them", async (context) => {
        const { clock, store } = state();
        if (!store.capabilities.history) return context.skip("store keeps no history");
        const sessions = state().manager({ retention: 600 });
        const first = await sessions.resolve("user");
        clock.advance(120);
        // Expired and not yet claimed: already listed as ended, never as active.
        expect((await sessions.listSessions({ userId: "user" })).sessions).toEqual([]);
        expect((await sessions.listSessions({ userId: "user", status: "ended" })).sessions).toEqual([
          expect.objectContaining({
            sessionId: first.sessionId,
            endReason: "expired",
            endedAt: first.createdAt + 120_000,
          }),
        ]);
        await sessions.cleanupExpired();
        clock.advance(100);
        const second = await sessions.resolve("user");
        expect(second.previousSessionId).toBe(first.sessionId);
        expect((await sessions.listSessions({ userId: "user", status: "ended" })).sessions).toEqual([
          expect.objectContaining({ sessionId: first.sessionId, endReason: "expired" }),
        ]);
      });

      it("pages through one user's many sessions and through a namespace, each session once", async (context) => {
        const { store, namespace } = state();
        if (!store.capabilities.history) return context.skip("store keeps no history");
        const sessions = state().manager({ retention: 3600 });
        const ids = new Set<string>();
        for (let index = 0; index < 12; index++) {
          ids.add((await sessions.resolve("many", undefined, { forceNew: index > 0 })).sessionId);
        }
        for (const user of ["x", "y", "z"]) ids.add((await sessions.resolve(user)).sessionId);
        const mine = await allPages(sessions, { userId: "many", status: "all", limit: 5 });
        expect(mine).toHaveLength(12);
        expect(mine[0]?.status).toBe("active");
        expect(mine.slice(1).every((session) => session.status === "ended" && session.endReason === "replaced")).toBe(
          true,
        );
        if (store.list !== undefined) {
          let everyone: SessionSummary[];
          try {
            everyone = await allPages(sessions, { namespace, status: "all", limit: 5 });
          } catch (error) {
            if ((error as { code?: string }).code === "UNSUPPORTED") return context.skip("store lists by user only");
            throw error;
          }
          expect(everyone.map((session) => session.sessionId).sort()).toEqual([...ids].sort());
        }
      });
    });

    describe("forgetUser", () => {
      it("removes the live session, its items and its history; the live one ends as forgotten", async (context) => {
        const { clock, store } = state();
        if (store.forget === undefined) return context.skip("store cannot forget");
        const { sessions, ends } = recording(state(), { retention: 3600 });
        const first = await sessions.resolve("user");
        await sessions.closeSession("user");
        const second = await sessions.resolve("user");
        if (store.items !== undefined) await sessions.addItems(second, ["private"]);
        await sessions.resolve("neighbour");
        clock.advance(1);
        const expected = store.capabilities.history ? 2 : 1;
        expect(await sessions.forgetUser("user")).toBe(expected);
        expect(await sessions.forgetUser("user")).toBe(0);
        expect(await sessions.forgetUser("never-seen")).toBe(0);
        await sessions.flush();
        expect(ends().map((end) => [end.session.sessionId, end.reason])).toEqual([
          [first.sessionId, "closed"],
          [second.sessionId, "forgotten"],
        ]);
        expect(await sessions.getSessionInfo("user")).toBeNull();
        if (store.items !== undefined) expect(await sessions.getItems(second)).toEqual([]);
        if (store.capabilities.history) {
          expect((await sessions.listSessions({ userId: "user", status: "all" })).sessions).toEqual([]);
        }
        expect(await sessions.getSessionInfo("neighbour")).not.toBeNull();
        const next = await sessions.resolve("user");
        expect(next.isNew).toBe(true);
        expect(next.previousSessionId).toBeUndefined();
      });
    });
  });
}
