import { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import { awaitAllCallbacks } from "@langchain/core/callbacks/promises";
import { AIMessage, type BaseMessage, HumanMessage } from "@langchain/core/messages";
import { RunnableLambda } from "@langchain/core/runnables";
import { FakeListChatModel } from "@langchain/core/utils/testing";
import { END, MemorySaver, MessagesAnnotation, START, StateGraph } from "@langchain/langgraph";
import { globalSessionId, type RunRecord, SessionManager } from "@threadline/session-core";
import { createFakeClock, faultyStore } from "@threadline/session-core/testing";
import { describe, expect, it } from "vitest";
import { resolveSessionConfig, sessionConfig, sessionConfigFor, ThreadlineCallbackHandler } from "../src/index.js";

// A one-node LangGraph agent whose state is the conversation; the checkpointer keeps it per thread_id.
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

describe("sessionConfig", () => {
  it("returns one config with the handler, LangSmith thread metadata and the LangGraph thread id", async () => {
    const clock = createFakeClock();
    const handler = new ThreadlineCallbackHandler({ namespace: "support", now: clock.now });
    const config = await sessionConfig(handler, { userId: "user-123" });
    const key = "support/user-123/support-user-123-20250107-120000";
    expect(config).toEqual({
      callbacks: [handler],
      metadata: {
        session_id: key,
        thread_id: key,
        user_id: "user-123",
        threadline_session_id: "support-user-123-20250107-120000",
        threadline_namespace: "support",
      },
      configurable: { thread_id: key },
    });
    // The session exists before the run.
    const session = await handler.sessionManager.getSessionInfo("user-123");
    expect(session?.sessionId).toBe(config.metadata.threadline_session_id);
    expect(session && globalSessionId(session)).toBe(key);
  });

  it("works from a bare manager (no callbacks), with namespace and forceNew", async () => {
    const clock = createFakeClock();
    const sessions = new SessionManager({ now: clock.now });
    const first = await sessionConfig(sessions, { userId: "ada", namespace: "sales" });
    const key = "sales/ada/sales-ada-20250107-120000";
    expect(first).toEqual({
      metadata: {
        session_id: key,
        thread_id: key,
        user_id: "ada",
        threadline_session_id: "sales-ada-20250107-120000",
        threadline_namespace: "sales",
      },
      configurable: { thread_id: key },
    });
    const forced = await sessionConfig(sessions, { userId: "ada", namespace: "sales", forceNew: true });
    expect(forced.configurable.thread_id).not.toBe(first.configurable.thread_id);
    expect(sessionConfigFor({ namespace: "a b", userId: "u/1", sessionId: "s-1" })).toEqual({
      metadata: {
        session_id: "a%20b/u%2F1/s-1",
        thread_id: "a%20b/u%2F1/s-1",
        user_id: "u/1",
        threadline_session_id: "s-1",
        threadline_namespace: "a b",
      },
      configurable: { thread_id: "a%20b/u%2F1/s-1" },
    });
  });

  it("resolveSessionConfig returns the session it resolved with the same config, in one resolve", async () => {
    const clock = createFakeClock();
    let resolves = 0;
    const handler = new ThreadlineCallbackHandler({
      namespace: "support",
      now: clock.now,
      onSessionStart: () => void resolves++,
    });
    const resolve = handler.sessionManager.resolve.bind(handler.sessionManager);
    let calls = 0;
    handler.sessionManager.resolve = (...args) => {
      calls++;
      return resolve(...args);
    };
    const { session, config } = await resolveSessionConfig(handler, { userId: "user-123" });
    expect(calls).toBe(1);
    expect(resolves).toBe(1);
    expect(session).toMatchObject({
      namespace: "support",
      userId: "user-123",
      sessionId: "support-user-123-20250107-120000",
    });
    // The same config sessionConfig returns: a plain object, nothing hidden on it.
    expect(config).toEqual(sessionConfigFor(session, handler));
    expect(Object.keys(config).sort()).toEqual(["callbacks", "configurable", "metadata"]);
    expect(config.metadata.session_id).toBe(globalSessionId(session));
    expect(config.metadata.threadline_namespace).toBe("support");

    // The run claims the announced session: still one session, no second resolve of the store's.
    const records: RunRecord[] = [];
    const recording = new ThreadlineCallbackHandler({ onRecord: (record) => void records.push(record) });
    const bare = await resolveSessionConfig(recording, { userId: "ada", namespace: "sales", forceNew: true });
    await RunnableLambda.from((text: string) => text).invoke("hi", bare.config);
    await awaitAllCallbacks();
    await recording.flush();
    expect(records[0]).toMatchObject({ namespace: "sales", userId: "ada", sessionId: bare.session.sessionId });

    const fromManager = await resolveSessionConfig(new SessionManager({ now: clock.now }), { userId: "bo" });
    expect(fromManager.config).not.toHaveProperty("callbacks");
    expect(fromManager.session.userId).toBe("bo");
  });

  it("rejects with a SessionError when the store is down (it runs in your code, before the run)", async () => {
    const store = faultyStore();
    store.fail({ operations: ["resolve"] });
    const handler = new ThreadlineCallbackHandler({ store });
    await expect(sessionConfig(handler, { userId: "u" })).rejects.toMatchObject({
      name: "SessionError",
      code: "STORE_UNAVAILABLE",
    });
    await expect(sessionConfig(handler, { userId: "  " })).rejects.toMatchObject({ code: "INVALID_USER_ID" });
  });

  it("says what to write when it is called without the user, or with a user id that is not a string", async () => {
    const handler = new ThreadlineCallbackHandler();
    const misuse = sessionConfig as (...args: unknown[]) => Promise<unknown>;
    await expect(misuse(handler)).rejects.toMatchObject({
      name: "SessionError",
      code: "INVALID_OPTION",
      message: expect.stringContaining('sessionConfig(handler, { userId: "user-123" })'),
    });
    await expect(misuse(undefined, { userId: "u" })).rejects.toMatchObject({ code: "INVALID_OPTION" });
    await expect(misuse(handler, { userId: 5511999999999 })).rejects.toMatchObject({
      code: "INVALID_USER_ID",
      message: expect.stringContaining("userId must be a string, got 5511999999999"),
    });
    expect(await handler.sessionManager.getSessionInfo("5511999999999")).toBeNull();
  });

  it("spreads into invoke with other options and puts the run into the session", async () => {
    const records: RunRecord[] = [];
    const handler = new ThreadlineCallbackHandler({ onRecord: (record) => void records.push(record) });
    const seenMetadata: Record<string, unknown>[] = [];
    const chain = RunnableLambda.from((text: string, config) => {
      seenMetadata.push({ ...config?.metadata });
      return text;
    });
    const config = await sessionConfig(handler, { userId: "ada" });
    const alsoCalled: string[] = [];
    const extra = BaseCallbackHandler.fromMethods({ handleChainStart: () => void alsoCalled.push("start") });
    await chain.invoke("hi", {
      ...config,
      callbacks: [...config.callbacks, extra],
      runName: "greeting",
      tags: ["demo"],
    });
    await awaitAllCallbacks();
    expect(alsoCalled).toEqual(["start"]);
    await handler.flush();
    expect(seenMetadata[0]).toMatchObject(config.metadata);
    expect(records[0]).toMatchObject({
      name: "greeting",
      userId: "ada",
      sessionId: config.metadata.threadline_session_id,
      tags: ["demo"],
      metadata: config.metadata,
    });
  });
});

describe("LangGraph MemorySaver keyed by the helper's thread_id", () => {
  it("remembers within a session, starts afresh after the inactivity timeout, never shares between users", async () => {
    const clock = createFakeClock();
    const records: RunRecord[] = [];
    const handler = new ThreadlineCallbackHandler({
      namespace: "chat",
      inactivityTimeout: 120,
      now: clock.now,
      onRecord: (record) => void records.push(record),
    });
    const graph = chatGraph();
    const say = async (userId: string, text: string) => {
      const config = await sessionConfig(handler, { userId });
      const state = await graph.invoke({ messages: [new HumanMessage(text)] }, config);
      return { thread: config.configurable.thread_id, messages: contents(state.messages) };
    };

    const first = await say("ada", "my name is Ada");
    expect(first.messages).toEqual(["human: my name is Ada", "ai: noted"]);
    clock.advance(60);
    const second = await say("ada", "what is my name?");
    expect(second.thread).toBe(first.thread);
    expect(second.messages).toEqual(["human: my name is Ada", "ai: noted", "human: what is my name?", "ai: noted"]);

    // Another user in the same second gets their own thread.
    const bob = await say("bob", "hello");
    expect(bob.thread).not.toBe(first.thread);
    expect(bob.messages).toEqual(["human: hello", "ai: noted"]);

    // 121 s of silence: a new session, so a new thread with no memory.
    clock.advance(121);
    const later = await say("ada", "remember me?");
    expect(later.thread).toBe("chat/ada/chat-ada-20250107-120301");
    expect(later.thread).not.toBe(first.thread);
    expect(later.messages).toEqual(["human: remember me?", "ai: noted"]);

    // The old thread is still in the checkpointer, untouched by the new session.
    const old = await graph.getState({ configurable: { thread_id: first.thread } });
    expect(contents(old.values.messages as BaseMessage[])).toHaveLength(4);

    await handler.flush();
    expect(
      records.map((record) => [record.userId, globalSessionId({ ...record, sessionId: record.sessionId ?? "" })]),
    ).toEqual([
      ["ada", first.thread],
      ["ada", first.thread],
      ["bob", bob.thread],
      ["ada", later.thread],
    ]);
  });

  it("never gives two users one thread, even when their readable session ids coincide", async () => {
    // ("support-vip", "123") and ("support", "vip-123") in the same second both get the readable
    // id "support-vip-123-20250107-120000"; the thread must still be each user's own.
    const clock = createFakeClock();
    const records: RunRecord[] = [];
    const handler = new ThreadlineCallbackHandler({ now: clock.now, onRecord: (record) => void records.push(record) });
    const graph = chatGraph();
    const vip = await sessionConfig(handler, { userId: "123", namespace: "support-vip" });
    const other = await sessionConfig(handler, { userId: "vip-123", namespace: "support" });
    expect(vip.metadata.threadline_session_id).toBe("support-vip-123-20250107-120000");
    expect(other.metadata.threadline_session_id).toBe("support-vip-123-20250107-120000");
    expect(vip.configurable.thread_id).not.toBe(other.configurable.thread_id);
    expect(vip.metadata.session_id).not.toBe(other.metadata.session_id);

    await graph.invoke({ messages: [new HumanMessage("my card ends in 4242")] }, vip);
    const state = await graph.invoke({ messages: [new HumanMessage("what is my card?")] }, other);
    expect(contents(state.messages)).toEqual(["human: what is my card?", "ai: noted"]);
    const vipState = await graph.getState(vip);
    expect(contents(vipState.values.messages as BaseMessage[])).toEqual(["human: my card ends in 4242", "ai: noted"]);

    await handler.flush();
    expect(records.map((record) => [record.namespace, record.userId, record.metadata?.session_id])).toEqual([
      ["support-vip", "123", vip.metadata.session_id],
      ["support", "vip-123", other.metadata.session_id],
    ]);
  });

  it("keeps concurrent users' graph runs and threads apart", async () => {
    const records: RunRecord[] = [];
    const handler = new ThreadlineCallbackHandler({ onRecord: (record) => void records.push(record) });
    const graph = chatGraph();
    const users = Array.from({ length: 20 }, (_, index) => `u${index}`);
    for (const turn of [1, 2]) {
      await Promise.all(
        users.map(async (userId) =>
          graph.invoke(
            { messages: [new HumanMessage(`${userId} turn ${turn}`)] },
            await sessionConfig(handler, { userId }),
          ),
        ),
      );
    }
    await handler.flush();
    for (const userId of users) {
      const config = await sessionConfig(handler, { userId });
      const state = await graph.getState(config);
      const humans = (state.values.messages as BaseMessage[]).filter((message) => !(message instanceof AIMessage));
      expect(humans.map((message) => message.content)).toEqual([`${userId} turn 1`, `${userId} turn 2`]);
      expect(records.filter((record) => record.userId === userId).map((record) => record.sessionId)).toEqual([
        config.metadata.threadline_session_id,
        config.metadata.threadline_session_id,
      ]);
    }
  });
});
