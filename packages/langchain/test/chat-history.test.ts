import { AIMessage, HumanMessage, SystemMessage, ToolMessage } from "@langchain/core/messages";
import { ChatPromptTemplate, MessagesPlaceholder } from "@langchain/core/prompts";
import { RunnableWithMessageHistory } from "@langchain/core/runnables";
import { FakeListChatModel } from "@langchain/core/utils/testing";
import { memoryStore, SessionManager, type SessionStore } from "@threadline/session-core";
import { createFakeClock, faultyStore } from "@threadline/session-core/testing";
import { describe, expect, it } from "vitest";
import { SessionChatMessageHistory, sessionConfigFor, ThreadlineCallbackHandler } from "../src/index.js";

function setup(timeoutSeconds = 120) {
  const clock = createFakeClock();
  const sessions = new SessionManager({ namespace: "chat", inactivityTimeout: timeoutSeconds, now: clock.now });
  const historyOf = async (userId: string) =>
    new SessionChatMessageHistory({ sessionManager: sessions, session: await sessions.resolve(userId) });
  return { clock, sessions, historyOf };
}

describe("SessionChatMessageHistory", () => {
  it("round-trips every kind of message through the store", async () => {
    const { historyOf } = setup();
    const history = await historyOf("ada");
    const messages = [
      new SystemMessage("be brief"),
      new HumanMessage({ content: "weather in Lisbon?", id: "h1" }),
      new AIMessage({
        content: "",
        tool_calls: [{ id: "call-1", name: "weather", args: { city: "Lisbon" }, type: "tool_call" }],
      }),
      new ToolMessage({ content: "21 °C, sunny", tool_call_id: "call-1", name: "weather" }),
      new AIMessage({ content: [{ type: "text", text: "21 °C and sunny ☀️" }] }),
    ];
    await history.addMessages(messages);
    await history.addMessage(new HumanMessage("thanks"));
    await history.addUserMessage("bye");

    const reread = await (await historyOf("ada")).getMessages();
    expect(reread.map((message) => message.getType())).toEqual([
      "system",
      "human",
      "ai",
      "tool",
      "ai",
      "human",
      "human",
    ]);
    expect(reread[1]?.id).toBe("h1");
    expect((reread[2] as AIMessage).tool_calls).toEqual([
      { id: "call-1", name: "weather", args: { city: "Lisbon" }, type: "tool_call" },
    ]);
    expect((reread[3] as ToolMessage).tool_call_id).toBe("call-1");
    expect(reread[4]?.content).toEqual([{ type: "text", text: "21 °C and sunny ☀️" }]);
    expect(reread.at(-1)?.content).toBe("bye");
  });

  it("expires with the session: empty after the timeout, and late writes are refused", async () => {
    const { clock, sessions, historyOf } = setup(60);
    const history = await historyOf("ada");
    await history.addMessages([new HumanMessage("hi"), new AIMessage("hello")]);
    clock.advance(59);
    expect(await history.getMessages()).toHaveLength(2);
    clock.advance(2);
    expect(await history.getMessages()).toEqual([]);
    await expect(history.addMessage(new HumanMessage("late"))).rejects.toMatchObject({ code: "SESSION_ENDED" });

    const next = await historyOf("ada");
    expect(next.session.sessionId).not.toBe(history.session.sessionId);
    expect(await next.getMessages()).toEqual([]);
    await next.addMessage(new HumanMessage("new conversation"));
    await sessions.closeSession("ada");
    expect(await next.getMessages()).toEqual([]);
  });

  it("keeps two users apart, also in the same second", async () => {
    const { historyOf } = setup();
    const ada = await historyOf("ada");
    const bob = await historyOf("bob");
    await Promise.all([ada.addUserMessage("I am Ada"), bob.addUserMessage("I am Bob")]);
    expect((await ada.getMessages()).map((message) => message.content)).toEqual(["I am Ada"]);
    expect((await bob.getMessages()).map((message) => message.content)).toEqual(["I am Bob"]);
    await ada.clear();
    expect(await ada.getMessages()).toEqual([]);
    expect(await bob.getMessages()).toHaveLength(1);
  });

  it("reads a window of the last maxMessages", async () => {
    const { sessions } = setup();
    const session = await sessions.resolve("ada");
    const history = new SessionChatMessageHistory({ sessionManager: sessions, session, maxMessages: 2 });
    await history.addMessages(["a", "b", "c"].map((text) => new HumanMessage(text)));
    expect((await history.getMessages()).map((message) => message.content)).toEqual(["b", "c"]);
    expect(() => new SessionChatMessageHistory({ sessionManager: sessions, session, maxMessages: -1 })).toThrow(
      expect.objectContaining({ code: "INVALID_OPTION" }),
    );
  });

  it("says clearly when the store has no items or holds foreign items", async () => {
    const inner = memoryStore();
    const { items: _items, ...withoutItems } = inner;
    const noItems = new SessionManager({ store: { ...withoutItems, name: "plain" } satisfies SessionStore });
    const plain = new SessionChatMessageHistory({ sessionManager: noItems, session: await noItems.resolve("u") });
    await expect(plain.getMessages()).rejects.toMatchObject({ code: "UNSUPPORTED" });

    const { sessions } = setup();
    const session = await sessions.resolve("u");
    await sessions.addItems(session, [{ role: "user", content: "written by another adapter" }]);
    const history = new SessionChatMessageHistory({ sessionManager: sessions, session });
    await expect(history.getMessages()).rejects.toMatchObject({
      code: "STORE_ERROR",
      message: /not a stored LangChain message/,
    });
  });

  it("rejects with a SessionError when the store is down", async () => {
    const store = faultyStore();
    const sessions = new SessionManager({ store });
    const history = new SessionChatMessageHistory({ sessionManager: sessions, session: await sessions.resolve("u") });
    store.fail();
    await expect(history.addUserMessage("x")).rejects.toMatchObject({
      name: "SessionError",
      code: "STORE_UNAVAILABLE",
    });
    await expect(history.getMessages()).rejects.toMatchObject({ code: "STORE_UNAVAILABLE", retryable: true });
  });

  it("plugs into RunnableWithMessageHistory next to the session config", async () => {
    const { sessions } = setup();
    const handler = new ThreadlineCallbackHandler({ sessionManager: sessions });
    const prompt = ChatPromptTemplate.fromMessages([new MessagesPlaceholder("history"), ["human", "{question}"]]);
    const seen: number[] = [];
    const model = new FakeListChatModel({ responses: ["first answer", "second answer"] });
    const chain = prompt.pipe((value) => {
      seen.push(value.toChatMessages().length);
      return model.invoke(value);
    });
    const session = await sessions.resolve("ada");
    const withHistory = new RunnableWithMessageHistory({
      runnable: chain,
      getMessageHistory: () => new SessionChatMessageHistory({ sessionManager: sessions, session }),
      inputMessagesKey: "question",
      historyMessagesKey: "history",
    });
    const config = sessionConfigFor(session, handler);
    const options = { ...config, configurable: { ...config.configurable, sessionId: session.sessionId } };
    await withHistory.invoke({ question: "one" }, options);
    await withHistory.invoke({ question: "two" }, options);
    await handler.flush();
    expect(seen).toEqual([1, 3]);
    const stored = await sessions.getItems(session);
    expect(stored).toHaveLength(4);
  });
});
