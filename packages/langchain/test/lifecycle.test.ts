// Session lifecycle through the handler: onSessionStart/onSessionEnd, maxTurns and retention given
// to ThreadlineCallbackHandler reach the manager it builds, fire on real runnables (a LangGraph
// graph with a checkpointer, a prompt | fake model chain) on an injected clock, and never fail a run.
import { type BaseMessage, HumanMessage } from "@langchain/core/messages";
import { StringOutputParser } from "@langchain/core/output_parsers";
import { ChatPromptTemplate } from "@langchain/core/prompts";
import { FakeListChatModel } from "@langchain/core/utils/testing";
import { END, MemorySaver, MessagesAnnotation, START, StateGraph } from "@langchain/langgraph";
import {
  globalSessionId,
  type RunRecord,
  type SessionEndEvent,
  type SessionStartEvent,
} from "@threadline/session-core";
import { createFakeClock, GUIDE_EPOCH } from "@threadline/session-core/testing";
import { describe, expect, it } from "vitest";
import { sessionConfig, ThreadlineCallbackHandler } from "../src/index.js";

/** What the callbacks saw, in the order they ran. */
type Heard = Array<{ start: SessionStartEvent } | { end: SessionEndEvent }>;

/** A one-node LangGraph agent whose conversation the checkpointer keeps per thread_id. */
function chatGraph() {
  const model = new FakeListChatModel({ responses: ["noted"] });
  return new StateGraph(MessagesAnnotation)
    .addNode("assistant", async (state, config) => ({ messages: [await model.invoke(state.messages, config)] }))
    .addEdge(START, "assistant")
    .addEdge("assistant", END)
    .compile({ checkpointer: new MemorySaver() });
}

function contents(messages: BaseMessage[]): string[] {
  return messages.map((message) => `${message.getType()}: ${String(message.content)}`);
}

describe("lifecycle callbacks through sessionConfig and a LangGraph graph", () => {
  it("start on the first run, end (expired) before the next start; retention + listSessions find the old thread", async () => {
    const clock = createFakeClock();
    const heard: Heard = [];
    const handler = new ThreadlineCallbackHandler({
      namespace: "support",
      now: clock.now,
      inactivityTimeout: 120,
      retention: 30 * 24 * 3600,
      onSessionStart: (start) => void heard.push({ start }),
      onSessionEnd: (end) => void heard.push({ end }),
    });
    const graph = chatGraph();
    const say = async (text: string) => {
      const config = await sessionConfig(handler, { userId: "user-123" });
      await graph.invoke({ messages: [new HumanMessage(text)] }, config);
      await handler.flush();
      return config.configurable.thread_id;
    };

    const firstThread = await say("my order is late");
    expect(heard).toEqual([
      { start: { session: expect.objectContaining({ sessionId: "support-user-123-20250107-120000", turns: 1 }) } },
    ]);
    clock.advance(30);
    expect(await say("order 42")).toBe(firstThread);
    expect(heard).toHaveLength(1); // a renewal starts and ends nothing

    clock.advance(121);
    const secondThread = await say("new question");
    expect(secondThread).not.toBe(firstThread);
    const endedAt = GUIDE_EPOCH + 30_000 + 120_000; // the last run plus the timeout
    expect(heard.slice(1)).toEqual([
      {
        end: {
          session: expect.objectContaining({ sessionId: "support-user-123-20250107-120000", turns: 2 }),
          reason: "expired",
          endedAt,
        },
      },
      {
        start: {
          session: expect.objectContaining({ sessionId: "support-user-123-20250107-120231", isNew: true }),
          previousSessionId: "support-user-123-20250107-120000",
        },
      },
    ]);

    // The README's example: the user's threads, newest first, with the ended one kept for `retention`.
    const { sessions } = await handler.sessionManager.listSessions({
      userId: "user-123",
      namespace: handler.namespace,
      status: "all",
    });
    expect(sessions.map((session) => [globalSessionId(session), session.status, session.endReason])).toEqual([
      [secondThread, "active", undefined],
      [firstThread, "ended", "expired"],
    ]);
    expect(sessions[1]?.endedAt).toBe(endedAt);
    // The checkpointer still holds the ended session's conversation under that thread id.
    const old = await graph.getState({ configurable: { thread_id: firstThread } });
    expect(contents(old.values.messages)).toEqual([
      "human: my order is late",
      "ai: noted",
      "human: order 42",
      "ai: noted",
    ]);
  });

  it("a throwing onSessionStart and a rejecting onSessionEnd never fail a run; onError hears both", async () => {
    const clock = createFakeClock();
    const failures: Array<{ message: string; operation: string; sessionId?: string }> = [];
    const handler = new ThreadlineCallbackHandler({
      namespace: "support",
      now: clock.now,
      onSessionStart: () => {
        throw new Error("analytics down");
      },
      onSessionEnd: async () => {
        throw new Error("summary service down");
      },
      onError: (error, context) =>
        failures.push({
          message: error.message,
          operation: context.operation,
          ...(context.sessionId === undefined ? {} : { sessionId: context.sessionId }),
        }),
    });
    const graph = chatGraph();
    await graph.invoke({ messages: [new HumanMessage("hi")] }, await sessionConfig(handler, { userId: "ana" }));
    clock.advance(121);
    const state = await graph.invoke(
      { messages: [new HumanMessage("back")] },
      await sessionConfig(handler, { userId: "ana" }),
    );
    expect(contents(state.messages)).toEqual(["human: back", "ai: noted"]);
    await handler.flush();
    expect(failures).toHaveLength(3);
    expect(failures).toEqual(
      expect.arrayContaining([
        { message: "analytics down", operation: "onSessionStart", sessionId: "support-ana-20250107-120000" },
        { message: "summary service down", operation: "onSessionEnd", sessionId: "support-ana-20250107-120000" },
        { message: "analytics down", operation: "onSessionStart", sessionId: "support-ana-20250107-120201" },
      ]),
    );
  });
});

describe("lifecycle through the handler alone (user in metadata, session resolved by the handler)", () => {
  it("maxTurns counts root runs: the run that would be turn maxTurns + 1 starts a new session", async () => {
    const clock = createFakeClock();
    const records: RunRecord[] = [];
    const ends: SessionEndEvent[] = [];
    const handler = new ThreadlineCallbackHandler({
      namespace: "support",
      now: clock.now,
      maxTurns: 2,
      onRecord: (record) => void records.push(record),
      onSessionEnd: (end) => void ends.push(end),
    });
    const chain = ChatPromptTemplate.fromMessages([["human", "{question}"]])
      .pipe(new FakeListChatModel({ responses: ["ok"] }))
      .pipe(new StringOutputParser());
    for (const question of ["one", "two", "three"]) {
      expect(await chain.invoke({ question }, { callbacks: [handler], metadata: { user_id: "bruno" } })).toBe("ok");
      await handler.flush();
      clock.advance(1);
    }
    expect(records.map((record) => record.sessionId)).toEqual([
      "support-bruno-20250107-120000",
      "support-bruno-20250107-120000",
      "support-bruno-20250107-120002",
    ]);
    expect(ends).toEqual([
      {
        session: expect.objectContaining({ sessionId: "support-bruno-20250107-120000", turns: 2 }),
        reason: "max-turns",
        endedAt: GUIDE_EPOCH + 2000,
      },
    ]);
  });
});
