// keepRunRecords: each root run's record is kept with its session and added to the session's
// totals, in the background, with real runnables and fake models. A store that fails to keep it
// never fails the chain; a store that cannot keep records is refused when the handler is built.
import { HumanMessage } from "@langchain/core/messages";
import { RunnableLambda } from "@langchain/core/runnables";
import { tool } from "@langchain/core/tools";
import {
  type ErrorContext,
  memoryStore,
  type RunRecord,
  SessionError,
  SessionManager,
  type SessionStore,
} from "@threadline/session-core";
import { faultyStore } from "@threadline/session-core/testing";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { sessionConfig, ThreadlineCallbackHandler } from "../src/index.js";
import { UsageReportingFakeChatModel } from "./support.js";

/** Two model calls around a tool call, with token usage on each reply. */
function toolChain() {
  const model = new UsageReportingFakeChatModel({ responses: ["checking", "all good"] });
  const lookup = tool(async ({ order }: { order: string }) => `order ${order} shipped`, {
    name: "lookup_order",
    description: "Finds an order.",
    schema: z.object({ order: z.string() }),
  });
  return RunnableLambda.from(async (question: string, config) => {
    const first = await model.invoke([new HumanMessage(question)], config);
    const found = await lookup.invoke({ order: "42" }, config);
    const answer = await model.invoke([new HumanMessage(question), first, new HumanMessage(found)], config);
    return answer.content;
  });
}

function keepingHandler(options: ConstructorParameters<typeof ThreadlineCallbackHandler>[0] = {}) {
  const records: RunRecord[] = [];
  const errors: { error: Error; context: ErrorContext }[] = [];
  const handler = new ThreadlineCallbackHandler({
    namespace: "support",
    keepRunRecords: true,
    onRecord: (record) => {
      records.push(record);
    },
    onError: (error, context) => {
      errors.push({ error, context });
    },
    ...options,
  });
  return { handler, records, errors };
}

/** A memory store that does not keep run records, as a store without `runs` would. */
function storeWithoutRuns(): SessionStore {
  const { runs: _runs, ...store } = memoryStore();
  return { ...store, name: "no-runs" };
}

describe("keepRunRecords", () => {
  it("keeps every root run's record with its session: totals after two runs, and the records listed", async () => {
    const { handler, records, errors } = keepingHandler();
    const chain = toolChain();
    await chain.invoke("where is my order?", await sessionConfig(handler, { userId: "ana" }));
    await chain.invoke("and now?", { callbacks: [handler], metadata: { user_id: "ana" } });
    await handler.flush();

    expect(errors).toEqual([]);
    expect(records).toHaveLength(2);
    const session = await handler.sessionManager.getSessionInfo("ana", "support");
    if (session === null) throw new Error("no session");
    expect(records.map((record) => record.sessionId)).toEqual([session.sessionId, session.sessionId]);
    const sum = (pick: (record: RunRecord) => number | undefined) =>
      records.reduce((total, record) => total + (pick(record) ?? 0), 0);
    const info = session;
    expect(info.totals).toMatchObject({
      runs: 2,
      inputTokens: sum((record) => record.usage?.inputTokens),
      outputTokens: sum((record) => record.usage?.outputTokens),
      totalTokens: sum((record) => record.usage?.totalTokens),
      toolCalls: 2,
      handoffs: 0,
      errors: 0,
    });
    // Two model calls per run: (1 message × 10 + 5) + (3 messages × 10 + 5) tokens.
    expect(info.totals?.totalTokens).toBe(2 * (15 + 35));

    const kept = await handler.sessionManager.listRunRecords(session);
    expect(kept.records).toEqual(records);
  });

  it("counts a failed root run as an error, and the chain's error reaches the caller as it was", async () => {
    const { handler, errors } = keepingHandler();
    const failing = RunnableLambda.from(async (_text: string) => {
      throw new Error("chain broke");
    });
    await expect(failing.invoke("x", { callbacks: [handler], metadata: { user_id: "ana" } })).rejects.toThrow(
      "chain broke",
    );
    await handler.flush();
    expect(errors).toEqual([]);
    expect((await handler.sessionManager.getSessionInfo("ana", "support"))?.totals).toMatchObject({
      runs: 1,
      errors: 1,
    });
  });

  it("works without onRecord", async () => {
    const handler = new ThreadlineCallbackHandler({ keepRunRecords: true });
    await RunnableLambda.from((text: string) => text).invoke("x", {
      callbacks: [handler],
      metadata: { user_id: "ana" },
    });
    await handler.flush();
    expect((await handler.sessionManager.getSessionInfo("ana"))?.totals).toMatchObject({ runs: 1 });
  });

  it("is off by default: nothing is kept", async () => {
    const { handler, records } = keepingHandler({ keepRunRecords: undefined });
    await RunnableLambda.from((text: string) => text).invoke("x", {
      callbacks: [handler],
      metadata: { user_id: "ana" },
    });
    await handler.flush();
    expect(records).toHaveLength(1);
    const session = await handler.sessionManager.getSessionInfo("ana", "support");
    if (session === null) throw new Error("no session");
    expect((await handler.sessionManager.listRunRecords(session)).records).toEqual([]);
    expect(session.totals).toBeUndefined();
  });

  it("a store that fails to keep the record: onError gets it (keepRecord), the chain and onRecord are unaffected", async () => {
    const store = faultyStore();
    const { handler, records, errors } = keepingHandler({ store });
    store.fail({ operations: ["runs.add"] });
    const output = await toolChain().invoke("where is my order?", {
      callbacks: [handler],
      metadata: { user_id: "ana" },
    });
    expect(output).toBe("all good");
    await handler.flush();
    expect(records).toHaveLength(1);
    expect(errors).toHaveLength(1);
    expect(SessionError.isInstance(errors[0]?.error)).toBe(true);
    expect(errors[0]?.error).toMatchObject({ code: "STORE_UNAVAILABLE" });
    expect(errors[0]?.context).toEqual({
      operation: "keepRecord",
      userId: "ana",
      sessionId: records[0]?.sessionId,
      runId: records[0]?.runId,
    });
    expect(store.calls["runs.add"]).toBe(1);
  });

  it("skips a run without a session (the store was down when it started)", async () => {
    const store = faultyStore();
    const { handler, records, errors } = keepingHandler({ store });
    store.fail({ operations: ["resolve"] });
    await RunnableLambda.from((text: string) => text).invoke("x", {
      callbacks: [handler],
      metadata: { user_id: "ana" },
    });
    await handler.flush();
    expect(records[0]?.sessionId).toBeNull();
    expect(errors.map((failure) => failure.context.operation)).toEqual(["resolve"]);
    expect(store.calls["runs.add"]).toBe(0);
  });

  it("flush waits for a record being kept", async () => {
    const store = faultyStore();
    const { handler } = keepingHandler({ store });
    const release = store.hold({ operations: ["runs.add"] });
    await RunnableLambda.from((text: string) => text).invoke("x", {
      callbacks: [handler],
      metadata: { user_id: "ana" },
    });
    let flushed = false;
    const flushing = handler.flush().then(() => {
      flushed = true;
    });
    for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(flushed).toBe(false);
    release();
    await flushing;
    expect((await handler.sessionManager.getSessionInfo("ana", "support"))?.totals).toMatchObject({ runs: 1 });
  });

  it("refuses a store that keeps no run records, naming the stores that do", () => {
    const expected = expect.objectContaining({
      code: "INVALID_OPTION",
      source: "langchain",
      message: expect.stringMatching(/keepRunRecords needs a store that keeps run records.*no-runs.*memory store/),
    });
    expect(() => new ThreadlineCallbackHandler({ store: storeWithoutRuns(), keepRunRecords: true })).toThrow(expected);
    const sessionManager = new SessionManager({ store: storeWithoutRuns() });
    expect(() => new ThreadlineCallbackHandler({ sessionManager, keepRunRecords: true })).toThrow(expected);
    expect(() => new ThreadlineCallbackHandler({ store: storeWithoutRuns() })).not.toThrow();
  });

  it("refuses a value that is not true or false", () => {
    expect(() => new ThreadlineCallbackHandler({ keepRunRecords: 1 as never })).toThrow(
      expect.objectContaining({ code: "INVALID_OPTION", message: expect.stringContaining("keepRunRecords") }),
    );
  });
});
