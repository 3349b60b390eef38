// keepRunRecords: each run's record is kept with its session and added to the session's totals,
// in the background, on the real Runner with scripted models. A store that fails to keep it never
// fails the run; a store that cannot keep records is refused when the hooks are built.
import { Agent, setTracingDisabled } from "@openai/agents";
import { memoryStore, SessionError, SessionManager, type SessionStore } from "@threadline/session-core";
import { faultyStore } from "@threadline/session-core/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { SessionHooks } from "../src/index.js";
import { echoAgent, triageAgents, USAGE_PER_CALL } from "./support/agents.js";
import { hooksOnRunner } from "./support/hooks.js";

beforeAll(() => setTracingDisabled(true));

/** A memory store that does not keep run records, as a store without `runs` would. */
function storeWithoutRuns(): SessionStore {
  const { runs: _runs, ...store } = memoryStore();
  return { ...store, name: "no-runs" };
}

describe("keepRunRecords", () => {
  it("keeps every run's record with its session: totals after two runs, and the records listed", async () => {
    const { records, failures, hooks, runner } = hooksOnRunner({ keepRunRecords: true });
    const first = await hooks.run(echoAgent(), "Hello", { userId: "ana" });
    const { triage } = triageAgents();
    await runner.run(triage, "refund my order", { context: { userId: "ana" } });
    await hooks.flush();

    expect(failures).toEqual([]);
    expect(records).toHaveLength(2);
    const session = await hooks.sessionOf(first);
    expect(records.map((record) => record.sessionId)).toEqual([session?.sessionId, session?.sessionId]);
    const calls = records.reduce((sum, record) => sum + (record.usage?.requests ?? 0), 0);
    const info = await hooks.sessionManager.getSessionInfo("ana", "support");
    expect(info?.totals).toEqual({
      runs: 2,
      inputTokens: calls * USAGE_PER_CALL.inputTokens,
      outputTokens: calls * USAGE_PER_CALL.outputTokens,
      totalTokens: calls * USAGE_PER_CALL.totalTokens,
      toolCalls: 2,
      handoffs: 1,
      errors: 0,
      lastAgent: "Billing",
    });
    expect(calls).toBeGreaterThan(2);

    const kept = await hooks.sessionManager.listRunRecords(session as NonNullable<typeof session>);
    expect(kept.records).toEqual(records);
  });

  it("counts a failed run's record as an error", async () => {
    const { failures, hooks } = hooksOnRunner({ keepRunRecords: true });
    const broken = new Agent({
      name: "Broken",
      instructions: "Fail.",
      model: {
        getResponse: async () => {
          throw new Error("model down");
        },
        // biome-ignore lint/correctness/useYield: never called; the test does not stream.
        async *getStreamedResponse() {
          throw new Error("not used");
        },
      },
    });
    await expect(hooks.run(broken, "Hi", { userId: "ana" })).rejects.toThrow("model down");
    await hooks.flush();
    expect(failures).toEqual([]);
    const info = await hooks.sessionManager.getSessionInfo("ana", "support");
    expect(info?.totals).toMatchObject({ runs: 1, errors: 1 });
  });

  it("works without onRecord", async () => {
    const hooks = new SessionHooks({ namespace: "support", keepRunRecords: true });
    await hooks.run(echoAgent(), "Hello", { userId: "ana" });
    await hooks.flush();
    expect((await hooks.sessionManager.getSessionInfo("ana", "support"))?.totals).toMatchObject({ runs: 1 });
  });

  it("is off by default: nothing is kept", async () => {
    const { records, hooks } = hooksOnRunner();
    const result = await hooks.run(echoAgent(), "Hello", { userId: "ana" });
    await hooks.flush();
    expect(records).toHaveLength(1);
    const session = await hooks.sessionOf(result);
    expect((await hooks.sessionManager.listRunRecords(session as NonNullable<typeof session>)).records).toEqual([]);
    expect((await hooks.sessionManager.getSessionInfo("ana", "support"))?.totals).toBeUndefined();
  });

  it("a store that fails to keep the record: onError gets it (keepRecord), the run and onRecord are unaffected", async () => {
    const store = faultyStore();
    const { records, failures, hooks } = hooksOnRunner({ store, keepRunRecords: true });
    store.fail({ operations: ["runs.add"] });
    const result = await hooks.run(echoAgent(), "Hello", { userId: "ana" });
    expect(result.finalOutput).toBe("Support Bot heard: Hello");
    await hooks.flush();
    expect(records).toHaveLength(1);
    expect(failures).toHaveLength(1);
    expect(SessionError.isInstance(failures[0]?.error)).toBe(true);
    expect(failures[0]?.error).toMatchObject({ code: "STORE_UNAVAILABLE" });
    expect(failures[0]?.context).toEqual({
      operation: "keepRecord",
      userId: "ana",
      sessionId: records[0]?.sessionId,
      runId: records[0]?.runId,
    });
    expect(store.calls["runs.add"]).toBe(1);
  });

  it("skips a run without a session (the store was down when it started)", async () => {
    const store = faultyStore();
    const { records, failures, hooks, runner } = hooksOnRunner({ store, keepRunRecords: true });
    store.fail({ operations: ["resolve"] });
    await runner.run(echoAgent(), "Hello", { context: { userId: "ana" } });
    await hooks.flush();
    expect(records[0]?.sessionId).toBeNull();
    expect(failures.map((failure) => failure.context.operation)).toEqual(["resolve"]);
    expect(store.calls["runs.add"]).toBe(0);
  });

  it("flush waits for a record being kept", async () => {
    const store = faultyStore();
    const { hooks } = hooksOnRunner({ store, keepRunRecords: true });
    const release = store.hold({ operations: ["runs.add"] });
    await hooks.run(echoAgent(), "Hello", { userId: "ana" });
    let flushed = false;
    const flushing = hooks.flush().then(() => {
      flushed = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(flushed).toBe(false);
    release();
    await flushing;
    expect((await hooks.sessionManager.getSessionInfo("ana", "support"))?.totals).toMatchObject({ runs: 1 });
  });

  it("refuses a store that keeps no run records, naming the stores that do", () => {
    const expected = expect.objectContaining({
      code: "INVALID_OPTION",
      source: "openai-agents",
      message: expect.stringMatching(/keepRunRecords needs a store that keeps run records.*no-runs.*memory store/),
    });
    expect(() => new SessionHooks({ store: storeWithoutRuns(), keepRunRecords: true })).toThrow(expected);
    const sessionManager = new SessionManager({ store: storeWithoutRuns() });
    expect(() => new SessionHooks({ sessionManager, keepRunRecords: true })).toThrow(expected);
    expect(() => new SessionHooks({ store: storeWithoutRuns() })).not.toThrow();
  });

  it("refuses a value that is not true or false", () => {
    expect(() => new SessionHooks({ keepRunRecords: "yes" as never })).toThrow(
      expect.objectContaining({ code: "INVALID_OPTION", message: expect.stringContaining("keepRunRecords") }),
    );
  });
});
