import { describe, expect, it } from "vitest";
import type { RunRecord } from "../run-record.js";
import type { SessionManager, SessionManagerOptions } from "../session-manager.js";
import type { SessionEndEvent, SessionStore } from "../store.js";
import type { FakeClock } from "./fake-clock.js";

/** What a runs case needs from the suite around it, read when the case runs. */
export interface RunsSuiteState {
  store: SessionStore;
  clock: FakeClock;
  manager(overrides?: SessionManagerOptions): SessionManager;
}

let runCounter = 0;

/** A run record of `session`, with tokens, one tool call and one handoff. */
export function runOf(
  session: { namespace: string; userId: string; sessionId: string },
  overrides: Partial<RunRecord> = {},
): RunRecord {
  return {
    version: 1,
    source: "conformance",
    runId: `run-${++runCounter}`,
    namespace: session.namespace,
    userId: session.userId,
    sessionId: session.sessionId,
    agents: ["Triage", "Billing"],
    finalAgent: "Billing",
    handoffs: [{ from: "Triage", to: "Billing" }],
    toolCalls: [{ name: "lookup", output: "ok" }],
    input: "hi",
    output: "hello",
    usage: { inputTokens: 10, outputTokens: 5, totalTokens: 15 },
    startedAt: 0,
    endedAt: 1,
    ...overrides,
  };
}

/**
 * The cases of run records kept with their session (`runs`): totals updated with each record,
 * idempotent by run id, bounded, kept with the ended session for its retention, erased by
 * `forgetUser`. Skipped for stores without `runs`.
 */
export function describeRunCases(state: () => RunsSuiteState): void {
  describe("run records", () => {
    const skipUnlessRuns = (context: { skip: (note: string) => void }) => {
      if (state().store.runs === undefined) context.skip("store keeps no run records");
    };

    it("keeps a session's runs with running totals, once per run id", async (context) => {
      skipUnlessRuns(context);
      const sessions = state().manager();
      const session = await sessions.resolve("user");
      const first = runOf(session);
      await sessions.addRunRecord(first);
      await sessions.addRunRecord(first); // a redelivered record
      const totals = await sessions.addRunRecord(
        runOf(session, { error: "model timed out", finalAgent: undefined, agents: ["Triage"], handoffs: [] }),
      );
      expect(totals).toEqual({
        runs: 2,
        inputTokens: 20,
        outputTokens: 10,
        totalTokens: 30,
        toolCalls: 2,
        handoffs: 1,
        errors: 1,
        lastAgent: "Triage",
      });
      expect((await sessions.getSessionInfo("user"))?.totals).toEqual(totals);
      const page = await sessions.listRunRecords(session);
      expect(page.records.map((record) => record.runId)).toEqual([first.runId, expect.any(String)]);
      expect(page.records[0]).toEqual(first);
    });

    it("keeps a late run with the ended session while it is in history, then forgets both", async (context) => {
      skipUnlessRuns(context);
      if (!state().store.capabilities.history) return context.skip("store keeps no history");
      const { clock } = state();
      const ends: SessionEndEvent[] = [];
      const sessions = state().manager({ retention: 60, onSessionEnd: (end) => void ends.push(end) });
      const session = await sessions.resolve("user");
      await sessions.addRunRecord(runOf(session));
      await sessions.closeSession("user");
      await sessions.addRunRecord(runOf(session)); // finished just after the session was closed
      await sessions.flush();
      expect(ends[0]?.session.totals?.runs).toBe(1); // the totals when it ended
      const [ended] = (await sessions.listSessions({ userId: "user", status: "ended" })).sessions;
      expect(ended?.totals?.runs).toBe(2);
      expect((await sessions.listRunRecords(session)).records).toHaveLength(2);
      clock.advance(60);
      await expect(sessions.addRunRecord(runOf(session))).rejects.toMatchObject({ code: "SESSION_ENDED" });
      expect((await sessions.listRunRecords(session)).records).toEqual([]);
    });

    it("refuses a run of a session that is gone, and forgets runs with the user", async (context) => {
      skipUnlessRuns(context);
      const sessions = state().manager({ retention: 3600 });
      const session = await sessions.resolve("user");
      await sessions.addRunRecord(runOf(session));
      await expect(sessions.addRunRecord(runOf({ ...session, sessionId: "not-a-session" }))).rejects.toMatchObject({
        code: "SESSION_ENDED",
      });
      await expect(sessions.addRunRecord(runOf(session, { sessionId: null }))).rejects.toMatchObject({
        code: "INVALID_OPTION",
      });
      await sessions.forgetUser("user");
      expect((await sessions.listRunRecords(session)).records).toEqual([]);
    });

    it("bounds the runs per session and pages through them; the totals keep counting", async (context) => {
      skipUnlessRuns(context);
      const sessions = state().manager({ maxRuns: 5 });
      const session = await sessions.resolve("user");
      const ids: string[] = [];
      for (let index = 0; index < 8; index++) {
        const record = runOf(session);
        ids.push(record.runId);
        await sessions.addRunRecord(record);
      }
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await sessions.listRunRecords(session, { limit: 2, ...(cursor === undefined ? {} : { cursor }) });
        seen.push(...page.records.map((record) => record.runId));
        cursor = page.cursor;
      } while (cursor !== undefined);
      expect(seen).toEqual(ids.slice(3));
      expect((await sessions.getSessionInfo("user"))?.totals?.runs).toBe(8);
      await expect(sessions.listRunRecords(session, { cursor: "x" })).rejects.toMatchObject({ code: "INVALID_OPTION" });
    });
  });
}
