// The chat history's bounds, trimming policy and operation ids, through real runnables with
// LangChain's fake chat models and a manager with small bounds.
import {
  AIMessage,
  AIMessageChunk,
  type BaseMessage,
  HumanMessage,
  SystemMessage,
  ToolMessage,
} from "@langchain/core/messages";
import { ChatPromptTemplate, MessagesPlaceholder } from "@langchain/core/prompts";
import { RunnableLambda, RunnableWithMessageHistory } from "@langchain/core/runnables";
import { tool } from "@langchain/core/tools";
import { FakeListChatModel, FakeStreamingChatModel } from "@langchain/core/utils/testing";
import { SessionManager, type SessionRef } from "@threadline/session-core";
import { createFakeClock } from "@threadline/session-core/testing";
import { describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { messagesCarryOver, SessionChatMessageHistory, ThreadlineCallbackHandler } from "../src/index.js";

function setup(bounds: { maxItems?: number; maxItemBytes?: number } = {}) {
  const clock = createFakeClock();
  const sessions = new SessionManager({ namespace: "chat", now: clock.now, ...bounds });
  return { clock, sessions };
}

const types = (messages: BaseMessage[]) => messages.map((message) => message.getType());

/** An exchange where the model calls a tool, gets its result and answers. */
function toolExchange(index: number): BaseMessage[] {
  const id = `call-${index}`;
  return [
    new HumanMessage(`weather ${index}?`),
    new AIMessage({ content: "", tool_calls: [{ id, name: "weather", args: { day: index }, type: "tool_call" }] }),
    new ToolMessage({ content: `${index} °C`, tool_call_id: id, name: "weather" }),
    new AIMessage(`It is ${index} °C.`),
  ];
}

/** Every stored tool result has its call before it, and the history starts with a question. */
function expectWholeExchanges(messages: BaseMessage[]): void {
  const start = messages[0]?.getType() === "system" ? 1 : 0;
  if (messages.length > start) expect(messages[start]?.getType()).toBe("human");
  const calls = new Set<string>();
  for (const message of messages) {
    for (const call of (message as AIMessage).tool_calls ?? []) if (call.id) calls.add(call.id);
    if (message instanceof ToolMessage) expect(calls.has(message.tool_call_id)).toBe(true);
  }
}

describe("SessionChatMessageHistory bounds", () => {
  it("trims whole exchanges, oldest first: never a tool result without its call", async () => {
    const { sessions } = setup({ maxItems: 10 });
    const session = await sessions.resolve("ada");
    const history = new SessionChatMessageHistory({ sessionManager: sessions, session });
    for (let index = 0; index < 7; index++) {
      const [question, call, result, answer] = toolExchange(index) as [
        BaseMessage,
        BaseMessage,
        BaseMessage,
        BaseMessage,
      ];
      // Written the way an agent loop writes: the question, then each step as it happens.
      await history.addMessage(question);
      await history.addMessages([call, result]);
      await history.addMessage(answer);
      await history.addMessages([new HumanMessage(`thanks ${index}`), new AIMessage("you're welcome")]);
      const messages = await history.getMessages();
      expect(messages.length).toBeLessThanOrEqual(10);
      expectWholeExchanges(messages);
    }
    // 12 messages of the last two rounds do not fit in 10: the oldest exchange (4) went whole.
    const last = await history.getMessages();
    expect(last.map((message) => message.text)).toEqual([
      "thanks 5",
      "you're welcome",
      "weather 6?",
      "",
      "6 °C",
      "It is 6 °C.",
      "thanks 6",
      "you're welcome",
    ]);
  });

  it("keeps the system message first however much is trimmed or windowed", async () => {
    const { sessions } = setup({ maxItems: 4 });
    const session = await sessions.resolve("ada");
    const history = new SessionChatMessageHistory({
      sessionManager: sessions,
      session,
      systemMessage: "You are terse.",
      maxMessages: 2,
    });
    // A leading copy of the system message (as a runnable's input may carry it) is not stored again.
    await history.addMessages([new SystemMessage("You are terse."), new HumanMessage("q0"), new AIMessage("a0")]);
    for (let index = 1; index < 50; index++) {
      await history.addMessages([new HumanMessage(`q${index}`), new AIMessage(`a${index}`)]);
    }
    const messages = await history.getMessages();
    expect(types(messages)).toEqual(["system", "human", "ai"]);
    expect(messages.map((message) => message.text)).toEqual(["You are terse.", "q49", "a49"]);
    expect(await sessions.getItems(session)).toHaveLength(4);
    await history.clear();
    expect(types(await history.getMessages())).toEqual(["system"]);
    // Another system message is a message like others: stored, and it starts an exchange.
    await history.addMessages([new SystemMessage("Now answer in French."), new HumanMessage("bonjour")]);
    expect(types(await history.getMessages())).toEqual(["system", "system", "human"]);
  });

  it("bounds bytes too, and refuses an exchange larger than the bounds without storing any of it", async () => {
    const { sessions } = setup({ maxItems: 100, maxItemBytes: 2_000 });
    const session = await sessions.resolve("ada");
    const history = new SessionChatMessageHistory({ sessionManager: sessions, session });
    for (let index = 0; index < 40; index++) {
      await history.addMessages([new HumanMessage(`q${index} ${"x".repeat(100)}`), new AIMessage(`a${index}`)]);
    }
    const stored = await sessions.getItems(session);
    expect(Buffer.byteLength(stored.map((item) => JSON.stringify(item)).join(""))).toBeLessThanOrEqual(2_000);
    expectWholeExchanges(await history.getMessages());
    const before = await history.getMessages();
    await expect(history.addMessages([new HumanMessage("y".repeat(3_000)), new AIMessage("ok")])).rejects.toMatchObject(
      {
        code: "ITEMS_TOO_LARGE",
      },
    );
    expect(await history.getMessages()).toEqual(before);
  });

  it("writes a batch atomically: concurrent batches never interleave", async () => {
    const { sessions } = setup({ maxItems: 60 });
    const session = await sessions.resolve("ada");
    const history = new SessionChatMessageHistory({ sessionManager: sessions, session });
    await Promise.all(Array.from({ length: 15 }, (_unused, index) => history.addMessages(toolExchange(index))));
    const messages = await history.getMessages();
    expect(messages).toHaveLength(60);
    for (let index = 0; index < messages.length; index += 4) {
      const day = /weather (\d+)/.exec(messages[index]?.text ?? "")?.[1];
      expect(messages.slice(index, index + 4).map((message) => message.text)).toEqual([
        `weather ${day}?`,
        "",
        `${day} °C`,
        `It is ${day} °C.`,
      ]);
    }
  });

  it("stays bounded under a hostile client pushing thousands of messages through RunnableWithMessageHistory", async () => {
    const { sessions } = setup({ maxItems: 20 });
    const session = await sessions.resolve("mallory");
    const model = new FakeListChatModel({ responses: ["ok"] });
    const prompt = ChatPromptTemplate.fromMessages([new MessagesPlaceholder("history"), ["human", "{question}"]]);
    const seen: number[] = [];
    const chain = prompt.pipe(
      RunnableLambda.from(async (value: Awaited<ReturnType<typeof prompt.invoke>>) => {
        seen.push(value.toChatMessages().length);
        return model.invoke(value);
      }),
    );
    const withHistory = new RunnableWithMessageHistory({
      runnable: chain,
      getMessageHistory: () =>
        new SessionChatMessageHistory({ sessionManager: sessions, session, systemMessage: "Be safe." }),
      inputMessagesKey: "question",
      historyMessagesKey: "history",
    });
    const config = { configurable: { sessionId: session.sessionId } };
    for (let turn = 0; turn < 1_500; turn++) {
      await withHistory.invoke({ question: `spam ${turn} ${"z".repeat(200)}` }, config);
    }
    // 3,000 messages pushed; the session keeps 20, the prompt never carried more than 20 + system + question.
    expect(await sessions.getItems(session)).toHaveLength(20);
    expect(Math.max(...seen)).toBe(22);
    const messages = await new SessionChatMessageHistory({ sessionManager: sessions, session }).getMessages();
    expect(messages.at(0)?.text).toMatch(/^spam 1490 /);
    expect(messages.at(-2)?.text).toMatch(/^spam 1499 /);
    expectWholeExchanges(messages);
  });

  it("refuses one request of thousands of messages whole: nothing stored (RunnableWithMessageHistory only logs it)", async () => {
    const { sessions } = setup({ maxItems: 20 });
    const session = await sessions.resolve("mallory");
    const model = new FakeListChatModel({ responses: ["ok"] });
    const withHistory = new RunnableWithMessageHistory({
      runnable: RunnableLambda.from((messages: BaseMessage[]) => model.invoke(messages.slice(-5))),
      getMessageHistory: () => new SessionChatMessageHistory({ sessionManager: sessions, session }),
    });
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const warned = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      const flood = Array.from({ length: 5_000 }, (_unused, index) => new HumanMessage(`flood ${index}`));
      // LangChain writes the history in a run listener and only logs its failure: the invoke resolves.
      await withHistory.invoke(flood, { configurable: { sessionId: session.sessionId } });
      const reports = [...logged.mock.calls, ...warned.mock.calls].map((call) => String(call.join(" ")));
      expect(
        reports.some(
          (report) => report.includes("ITEMS_TOO_LARGE") || report.includes("larger than the session's bounds"),
        ),
      ).toBe(true);
    } finally {
      logged.mockRestore();
      warned.mockRestore();
    }
    expect(await sessions.getItems(session)).toEqual([]);
  });

  it("keeps an agent's tool calls with their results when trimming, through a tool-calling model", async () => {
    const { sessions } = setup({ maxItems: 9 });
    const session = await sessions.resolve("ada");
    const weather = tool(async ({ day }: { day: number }) => `${day * 2} °C`, {
      name: "weather",
      description: "the weather on a day",
      schema: z.object({ day: z.number() }),
    });
    // One agent turn: the model asks for the tool, the tool answers, the model answers. LangChain's
    // fakes script one reply each: a tool-calling one for the first step, a list model for the answer.
    const agentTurn = async (question: string, day: number) => {
      const history = new SessionChatMessageHistory({ sessionManager: sessions, session });
      const callsTool = new FakeStreamingChatModel({
        responses: [new AIMessage("")],
        chunks: [
          new AIMessageChunk({
            content: "",
            tool_calls: [{ id: `call-${day}`, name: "weather", args: { day }, type: "tool_call" }],
          }),
        ],
      }).bindTools([weather]);
      const answers = new FakeListChatModel({ responses: [`Day ${day}: ${day * 2} °C`] });
      const messages: BaseMessage[] = [...(await history.getMessages()), new HumanMessage(question)];
      await history.addMessage(messages.at(-1) as BaseMessage);
      for (let step = 0; ; step++) {
        const reply = step === 0 ? await callsTool.invoke(messages) : await answers.invoke(messages);
        messages.push(reply);
        await history.addMessage(reply);
        if (!reply.tool_calls?.length) break;
        for (const call of reply.tool_calls) {
          const result = (await weather.invoke({ ...call, type: "tool_call" })) as ToolMessage;
          messages.push(result);
          await history.addMessage(result);
        }
      }
      return messages;
    };
    for (let day = 1; day <= 10; day++) {
      const prompt = await agentTurn(`weather on day ${day}?`, day);
      expectWholeExchanges(prompt);
      const stored = await new SessionChatMessageHistory({ sessionManager: sessions, session }).getMessages();
      expect(stored.length).toBeLessThanOrEqual(9);
      expectWholeExchanges(stored);
    }
    const stored = await new SessionChatMessageHistory({ sessionManager: sessions, session }).getMessages();
    expect(types(stored)).toEqual(["human", "ai", "tool", "ai", "human", "ai", "tool", "ai"]);
  });
});

describe("SessionChatMessageHistory operation ids", () => {
  /** A chain with history, built per request so the request's id reaches the history. */
  function requestHandler(sessions: SessionManager, session: SessionRef, model: FakeListChatModel) {
    const prompt = ChatPromptTemplate.fromMessages([new MessagesPlaceholder("history"), ["human", "{question}"]]);
    return (requestId: string, question: string) =>
      new RunnableWithMessageHistory({
        runnable: prompt.pipe(model),
        getMessageHistory: () =>
          new SessionChatMessageHistory({ sessionManager: sessions, session, operationId: requestId }),
        inputMessagesKey: "question",
        historyMessagesKey: "history",
      }).invoke({ question }, { configurable: { sessionId: session.sessionId } });
  }

  it("appends a redelivered request once, even when the model answers differently the second time", async () => {
    const { sessions } = setup();
    const session = await sessions.resolve("ada");
    const handle = requestHandler(
      sessions,
      session,
      new FakeListChatModel({ responses: ["first", "second", "third"] }),
    );
    await handle("wamid.1", "hello");
    await handle("wamid.1", "hello"); // redelivered: the model runs again and says "second"
    await handle("wamid.2", "again");
    const messages = await new SessionChatMessageHistory({ sessionManager: sessions, session }).getMessages();
    expect(messages.map((message) => message.text)).toEqual(["hello", "first", "again", "third"]);
  });

  it("numbers a history's writes, reports repeats, and takes an id per write", async () => {
    const { sessions } = setup();
    const session = await sessions.resolve("ada");
    const attempt = async () => {
      const history = new SessionChatMessageHistory({ sessionManager: sessions, session, operationId: "req-7" });
      const question = await history.appendMessages([new HumanMessage("q")]);
      const answer = await history.appendMessages([new AIMessage("a")]);
      return [question.applied, answer.applied];
    };
    expect(await attempt()).toEqual([true, true]);
    expect(await attempt()).toEqual([false, false]);
    const history = new SessionChatMessageHistory({ sessionManager: sessions, session });
    expect(await history.appendMessages([new HumanMessage("x")], { operationId: "once" })).toEqual({
      applied: true,
      trimmed: 0,
    });
    expect((await history.appendMessages([new HumanMessage("x")], { operationId: "once" })).applied).toBe(false);
    expect((await history.getMessages()).map((message) => message.text)).toEqual(["q", "a", "x"]);
    expect(() => new SessionChatMessageHistory({ sessionManager: sessions, session, operationId: "" })).toThrow(
      expect.objectContaining({ code: "INVALID_OPTION" }),
    );
  });
});

describe("messagesCarryOver", () => {
  it("seeds a user's next session from the ended one's messages, once", async () => {
    const clock = createFakeClock();
    const seen: string[][] = [];
    const sessions = new SessionManager({
      namespace: "chat",
      inactivityTimeout: 60,
      now: clock.now,
      carryOver: messagesCarryOver(({ messages }) => {
        seen.push(messages.map((message) => message.text));
        const asked = messages.findLast((message) => message.getType() === "human")?.text;
        return asked ? [new SystemMessage(`Last time the user asked: ${asked}`)] : [];
      }),
    });
    const historyOf = async () =>
      new SessionChatMessageHistory({
        sessionManager: sessions,
        session: await sessions.resolve("ada"),
        systemMessage: "Be kind.",
      });
    const first = await historyOf();
    await first.addMessages([new HumanMessage("my name is Ada"), new AIMessage("hi Ada")]);
    await first.addMessages([new HumanMessage("where is my order?"), new AIMessage("on its way")]);
    clock.advance(61);
    const second = await historyOf();
    expect(second.session.sessionId).not.toBe(first.session.sessionId);
    expect((await second.getMessages()).map((message) => `${message.getType()}: ${message.text}`)).toEqual([
      "system: Be kind.",
      "system: Last time the user asked: where is my order?",
    ]);
    await second.addMessages([new HumanMessage("thanks")]);
    expect(await (await historyOf()).getMessages()).toHaveLength(3); // a renewal seeds nothing
    clock.advance(61);
    await historyOf();
    expect(seen).toEqual([
      ["my name is Ada", "hi Ada", "where is my order?", "on its way"],
      ["Last time the user asked: where is my order?", "thanks"],
    ]);
  });
});

describe("bounds and carry-over through the handler's options", () => {
  it("a handler built with maxItems and carryOver gives its manager both", async () => {
    const clock = createFakeClock();
    const handler = new ThreadlineCallbackHandler({
      namespace: "chat",
      inactivityTimeout: 60,
      now: clock.now,
      maxItems: 4,
      carryOver: messagesCarryOver(() => [new SystemMessage("carried")]),
    });
    const sessions = handler.sessionManager;
    const historyOf = async () =>
      new SessionChatMessageHistory({ sessionManager: sessions, session: await sessions.resolve("ada", "chat") });
    const history = await historyOf();
    for (let index = 0; index < 5; index++) {
      await history.addMessages([new HumanMessage(`q${index}`), new AIMessage(`a${index}`)]);
    }
    expect((await history.getMessages()).map((message) => message.text)).toEqual(["q3", "a3", "q4", "a4"]);
    clock.advance(61);
    expect((await (await historyOf()).getMessages()).map((message) => message.text)).toEqual(["carried"]);
    await handler.flush();
  });
});
