import { AIMessage, HumanMessage } from "@langchain/core/messages";
import { StringOutputParser } from "@langchain/core/output_parsers";
import { ChatPromptTemplate } from "@langchain/core/prompts";
import { RunnableLambda, RunnableSequence } from "@langchain/core/runnables";
import { tool } from "@langchain/core/tools";
import { FakeListChatModel } from "@langchain/core/utils/testing";
import { type ErrorContext, type RunRecord, type SessionError, SessionManager } from "@threadline/session-core";
import { createFakeClock, faultyStore } from "@threadline/session-core/testing";
import { describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { sessionConfig, ThreadlineCallbackHandler } from "../src/index.js";
import { UsageReportingFakeChatModel, yieldTurns } from "./support.js";

// A real chain: a tool call, a prompt, a chat model and a parser, with a user-specific answer at
// the end so records can be checked for mixing.
function userChain(model = new FakeListChatModel({ responses: ["fine", "great", "ok"] })) {
  const lookup = tool(async ({ userId }: { userId: string }) => `profile of ${userId}`, {
    name: "lookup_profile",
    description: "Looks up a user's profile.",
    schema: z.object({ userId: z.string() }),
  });
  const prompt = ChatPromptTemplate.fromMessages([
    ["system", "You help {userId}. Profile: {profile}"],
    ["human", "{question}"],
  ]);
  return RunnableSequence.from([
    RunnableLambda.from(async (input: { userId: string; question: string; turns: number }, config) => {
      await yieldTurns(input.turns);
      const profile = await lookup.invoke({ userId: input.userId }, config);
      return { ...input, profile };
    }),
    RunnableLambda.from(async (input: { userId: string; question: string; profile: string }, config) => {
      const text = await prompt.pipe(model).pipe(new StringOutputParser()).invoke(input, config);
      return `${input.question} -> ${text}`;
    }),
  ]);
}

function recordingHandler(options: ConstructorParameters<typeof ThreadlineCallbackHandler>[0] = {}) {
  const records: RunRecord[] = [];
  const errors: { error: Error; context: ErrorContext }[] = [];
  const handler = new ThreadlineCallbackHandler({
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

describe("ThreadlineCallbackHandler", () => {
  it("keeps concurrent runs of many users apart through one handler, with background callbacks", async () => {
    expect(process.env.LANGCHAIN_CALLBACKS_BACKGROUND).not.toBe("false");
    const clock = createFakeClock();
    const sessions = new SessionManager({ namespace: "support", now: clock.now });
    const { handler, records, errors } = recordingHandler({ sessionManager: sessions });
    expect(handler.awaitHandlers).toBe(false);
    const chain = userChain();
    const users = Array.from({ length: 40 }, (_, index) => `user-${index}`);

    // Two rounds of 40 concurrent runs, each user once per round, interleaved differently.
    for (const round of [0, 1]) {
      const outputs = await Promise.all(
        users.map((userId, index) =>
          chain.invoke(
            { userId, question: `question ${round} of ${userId}`, turns: (index * 7 + round * 3) % 5 },
            { callbacks: [handler], metadata: { user_id: userId } },
          ),
        ),
      );
      outputs.forEach((output, index) => {
        expect(output).toMatch(new RegExp(`^question ${round} of user-${index} -> `));
      });
      clock.advance(30);
    }
    await handler.flush();

    expect(errors).toEqual([]);
    expect(records).toHaveLength(users.length * 2);
    expect(handler.openRuns).toBe(0);
    for (const userId of users) {
      const own = records.filter((record) => record.userId === userId);
      expect(own).toHaveLength(2);
      const info = await sessions.getSessionInfo(userId);
      for (const [round, record] of own.entries()) {
        expect(record.sessionId).toBe(info?.sessionId);
        expect(record.sessionId).toBe(`support-${userId}-20250107-120000`);
        expect(record.namespace).toBe("support");
        expect(record.input).toMatchObject({ userId, question: `question ${round} of ${userId}` });
        expect(record.output).toMatchObject({ output: expect.stringMatching(`^question ${round} of ${userId} -> `) });
        expect(record.toolCalls).toHaveLength(1);
        expect(record.toolCalls[0]).toMatchObject({ name: "lookup_profile", input: JSON.stringify({ userId }) });
        expect(record.toolCalls[0]?.output).toBe(`profile of ${userId}`);
        expect(record).toMatchObject({ version: 1, source: "langchain", agents: [], handoffs: [] });
        expect(record.metadata?.user_id).toBe(userId);
      }
    }
    // The second round renewed every session (30 s after the first), and the end of each run again.
    const info = await sessions.getSessionInfo("user-0");
    expect(info?.lastActivityAt).toBe(clock.now() - 30_000);
  });

  it("does the same when LangChain awaits the handler", async () => {
    const { handler, records } = recordingHandler({ awaitHandlers: true });
    expect(handler.awaitHandlers).toBe(true);
    const chain = userChain();
    const users = ["ana", "bo", "cy", "di"];
    await Promise.all(
      users.map((userId, index) =>
        chain.invoke(
          { userId, question: `hi from ${userId}`, turns: index },
          { callbacks: [handler], metadata: { userId } },
        ),
      ),
    );
    await handler.flush();
    expect(records.map((record) => record.userId).sort()).toEqual(users);
    for (const record of records) {
      expect(record.sessionId).toBe(`default-${record.userId}-${record.sessionId?.slice(-15)}`);
      expect(record.input).toMatchObject({ question: `hi from ${record.userId}` });
    }
  });

  it("emits one record per root run, not per child run", async () => {
    const { handler, records } = recordingHandler();
    await userChain().invoke(
      { userId: "u1", question: "q", turns: 0 },
      { callbacks: [handler], metadata: { user_id: "u1" } },
    );
    await handler.flush();
    expect(records).toHaveLength(1);
    expect(records[0]?.name).toBe("RunnableSequence");
  });

  it("takes the user from metadata, then setUserId(), then anonymous", async () => {
    const { handler, records } = recordingHandler();
    const echo = RunnableLambda.from((text: string) => text.toUpperCase());
    await echo.invoke("a", { callbacks: [handler] });
    handler.setUserId("fallback-user");
    await echo.invoke("b", { callbacks: [handler] });
    await echo.invoke("c", { callbacks: [handler], metadata: { userId: "camel" } });
    await echo.invoke("d", { callbacks: [handler], metadata: { user_id: "snake", userId: "camel" } });
    handler.setUserId(undefined);
    await echo.invoke("f", { callbacks: [handler] });
    await handler.flush();
    expect(records.map((record) => [record.input, record.userId])).toEqual([
      [{ input: "a" }, "anonymous"],
      [{ input: "b" }, "fallback-user"],
      [{ input: "c" }, "camel"],
      [{ input: "d" }, "snake"],
      [{ input: "f" }, "anonymous"],
    ]);
    expect(records[0]?.output).toEqual({ output: "A" });
    expect(() => handler.setUserId(42 as unknown as string)).toThrow(
      expect.objectContaining({ code: "INVALID_USER_ID" }),
    );
  });

  it("warns once when runs name no user", async () => {
    const { handler, records } = recordingHandler();
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      const echo = RunnableLambda.from((text: string) => text);
      await echo.invoke("a", { callbacks: [handler] });
      await echo.invoke("b", { callbacks: [handler] });
      await handler.flush();
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]?.[0])).toMatch(
        /^\[threadline\] \[langchain\] A run named no user.*sessionConfig\(handler, \{ userId \}\)/,
      );
    } finally {
      warn.mockRestore();
    }
    expect(records.map((record) => record.userId)).toEqual(["anonymous", "anonymous"]);
  });

  it("rejects user ids the core rejects, numbers included: reported, no session, the chain goes on", async () => {
    const { handler, records, errors } = recordingHandler();
    const chain = userChain(new FakeListChatModel({ responses: ["fine"] }));
    const output = await chain.invoke(
      { userId: "x", question: "q", turns: 1 },
      { callbacks: [handler], metadata: { user_id: 5511999999999 } },
    );
    expect(output).toBe("q -> fine");
    await handler.flush();
    // Its child runs were not taken for roots of their own either.
    expect(records).toEqual([]);
    expect(handler.openRuns).toBe(0);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.error).toMatchObject({ name: "SessionError", code: "INVALID_USER_ID" });
    expect(errors[0]?.error.message).toContain("userId must be a string, got 5511999999999");
    expect(errors[0]?.context).toMatchObject({ operation: "resolve", runId: expect.any(String) });
    expect(await handler.sessionManager.getSessionInfo("5511999999999")).toBeNull();
  });

  it("renews the session on activity and rolls it over after the inactivity timeout", async () => {
    const clock = createFakeClock();
    const { handler, records } = recordingHandler({ inactivityTimeout: 60, now: clock.now, namespace: "chat" });
    const slow = RunnableLambda.from(async (text: string) => {
      clock.advance(50); // a run that takes 50 s of the 60 s timeout
      return text;
    });
    const run = async (text: string) => {
      await slow.invoke(text, { callbacks: [handler], metadata: { user_id: "ada" } });
      await handler.flush();
    };
    await run("one"); // 12:00:00 → 12:00:50, renewed at the end
    clock.advance(55); // 12:01:45: 105 s after the start, but only 55 s after the end
    await run("two");
    clock.advance(61);
    await run("three");
    expect(records.map((record) => record.sessionId)).toEqual([
      "chat-ada-20250107-120000",
      "chat-ada-20250107-120000",
      "chat-ada-20250107-120336", // 12:02:35 end + 61 s
    ]);
    expect(records[0]).toMatchObject({
      startedAt: Date.UTC(2025, 0, 7, 12, 0, 0),
      endedAt: Date.UTC(2025, 0, 7, 12, 0, 50),
    });
  });

  it("sums the token usage models report, across model calls", async () => {
    const { handler, records } = recordingHandler();
    const model = new UsageReportingFakeChatModel({ responses: ["a", "b"] });
    const twoCalls = RunnableLambda.from(async (text: string, config) => {
      const first = await model.invoke([new HumanMessage(text)], config);
      return model.invoke([new HumanMessage(text), first, new HumanMessage("again")], config);
    });
    await twoCalls.invoke("hi", { callbacks: [handler], metadata: { user_id: "tok" } });
    await new FakeListChatModel({ responses: ["x"] }).invoke("no usage", {
      callbacks: [handler],
      metadata: { user_id: "tok" },
    });
    await handler.flush();
    expect(records[0]?.usage).toEqual({ inputTokens: 40, outputTokens: 10, totalTokens: 50 });
    expect(records[1]?.name).toBe("FakeListChatModel");
    expect(records[1]?.usage).toBeUndefined();
    expect(records[1]?.output).toMatchObject({ generations: [[{ text: "x" }]] });
  });

  it("records a failed root run and a failed tool", async () => {
    const { handler, records, errors } = recordingHandler();
    const failing = tool(
      async () => {
        throw new Error("tool broke");
      },
      { name: "broken", description: "fails", schema: z.object({}) },
    );
    const chain = RunnableLambda.from(async (_: string, config) => {
      await failing.invoke({}, config).catch(() => "ignored");
      throw new Error("chain broke");
    });
    await expect(chain.invoke("x", { callbacks: [handler], metadata: { user_id: "err" } })).rejects.toThrow(
      "chain broke",
    );
    await handler.flush();
    expect(errors).toEqual([]);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      userId: "err",
      error: "chain broke",
      toolCalls: [{ name: "broken", error: "tool broke" }],
    });
    expect(records[0]?.sessionId).toMatch(/^default-err-/);
    expect("output" in (records[0] ?? {})).toBe(false);
  });

  it("reports the streamed run's real input", async () => {
    const { handler, records } = recordingHandler();
    const chain = RunnableLambda.from((text: string) => text.split("")).pipe(
      RunnableLambda.from((letters: string[]) => letters.join("-")),
    );
    const chunks: string[] = [];
    for await (const chunk of await chain.stream("abc", { callbacks: [handler], metadata: { user_id: "streamer" } })) {
      chunks.push(chunk);
    }
    await handler.flush();
    expect(chunks.join("")).toBe("a-b-c");
    expect(records).toHaveLength(1);
    expect(records[0]?.input).toEqual({ input: "abc" });
    expect(records[0]?.output).toEqual({ output: "a-b-c" });
  });

  it("lets the chain complete when the store is down and reports a SessionError", async () => {
    const store = faultyStore();
    const { handler, records, errors } = recordingHandler({ store });
    store.fail();
    const output = await userChain(new FakeListChatModel({ responses: ["still here"] })).invoke(
      { userId: "offline", question: "q", turns: 1 },
      { callbacks: [handler], metadata: { user_id: "offline" } },
    );
    expect(output).toBe("q -> still here");
    await handler.flush();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ userId: "offline", sessionId: null, output: { output: "q -> still here" } });
    // The manager's background cleanup also met the dead store; it reports to the same onError.
    const failures = errors.filter((failure) => failure.context.operation !== "cleanup");
    expect(failures).toHaveLength(1);
    const [failure] = failures;
    expect(failure?.context).toEqual({ operation: "resolve", userId: "offline", runId: records[0]?.runId });
    expect(failure?.error).toMatchObject({ name: "SessionError", code: "STORE_UNAVAILABLE", retryable: true });
    expect(failure?.error.message).toContain("[threadline] [faulty]");

    // The store comes back: the next run gets a session again.
    store.recover();
    await RunnableLambda.from((text: string) => text).invoke("x", {
      callbacks: [handler],
      metadata: { user_id: "offline" },
    });
    await handler.flush();
    expect(records[1]?.sessionId).toMatch(/^default-offline-/);
  });

  it("reports a store that fails between start and end as a renewal error", async () => {
    const store = faultyStore();
    const { handler, records, errors } = recordingHandler({ store, awaitHandlers: true });
    const chain = RunnableLambda.from(async (text: string) => {
      await handler.flush(); // let the start's resolve land before the store goes down
      store.fail();
      return text;
    });
    await chain.invoke("x", { callbacks: [handler], metadata: { user_id: "flaky" } });
    await handler.flush();
    expect(records[0]?.sessionId).toMatch(/^default-flaky-/);
    expect(errors.map((failure) => failure.context)).toEqual([
      { operation: "renew", runId: records[0]?.runId, userId: "flaky", sessionId: records[0]?.sessionId },
    ]);
  });

  it("never throws into the chain: bad user ids, a throwing onRecord, a throwing onError", async () => {
    const errors: Error[] = [];
    const handler = new ThreadlineCallbackHandler({
      onRecord: () => {
        throw new Error("my sink is broken");
      },
      onError: (error) => {
        errors.push(error);
        throw new Error("and so is my error handler");
      },
    });
    const echo = RunnableLambda.from((text: string) => text);
    await expect(echo.invoke("ok", { callbacks: [handler], metadata: { user_id: "   " } })).resolves.toBe("ok");
    await expect(echo.invoke("ok", { callbacks: [handler], metadata: { user_id: "\uD800" } })).resolves.toBe("ok");
    await expect(echo.invoke("ok", { callbacks: [handler], metadata: { user_id: "fine" } })).resolves.toBe("ok");
    await handler.flush();
    expect(errors.map((error) => (error as SessionError).code ?? error.message)).toEqual([
      "INVALID_USER_ID",
      "INVALID_USER_ID",
      "my sink is broken",
    ]);
  });

  it("flush() waits for background callbacks and a slow async onRecord", async () => {
    const delivered: string[] = [];
    const handler = new ThreadlineCallbackHandler({
      onRecord: async (record) => {
        await yieldTurns(20);
        delivered.push(record.userId);
      },
    });
    const echo = RunnableLambda.from((text: string) => text);
    await Promise.all(
      ["a", "b", "c"].map((userId) => echo.invoke(userId, { callbacks: [handler], metadata: { userId } })),
    );
    await handler.flush();
    expect(delivered.sort()).toEqual(["a", "b", "c"]);
    await handler.flush(); // nothing pending: returns at once
  });

  it("logs the first failure of each operation by default instead of throwing", async () => {
    const store = faultyStore();
    store.fail({ operations: ["resolve"] });
    const handler = new ThreadlineCallbackHandler({ store });
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const echo = RunnableLambda.from((text: string) => text);
      await echo.invoke("x", { callbacks: [handler], metadata: { user_id: "u" } });
      await echo.invoke("y", { callbacks: [handler], metadata: { user_id: "u" } });
      await handler.flush();
      expect(logged).toHaveBeenCalledTimes(1);
      expect(String(logged.mock.calls[0]?.[0])).toMatch(
        /^\[threadline\] \[langchain\] resolve failed \(threadline kept the failure from crashing your app\)/,
      );
    } finally {
      logged.mockRestore();
    }
  });

  it("uses the session sessionConfig resolved instead of resolving again", async () => {
    const store = faultyStore();
    const { handler, records } = recordingHandler({ store, namespace: "support" });
    const echo = RunnableLambda.from((text: string) => text);
    const config = await sessionConfig(handler, { userId: "u1" });
    expect(store.calls).toMatchObject({ resolve: 1, touch: 0 });
    await echo.invoke("first", config);
    await handler.flush();
    expect(store.calls).toMatchObject({ resolve: 1, touch: 1 });
    // The same config again: the announcement was used up, so the handler resolves itself.
    await echo.invoke("second", config);
    await handler.flush();
    expect(store.calls).toMatchObject({ resolve: 2, touch: 2 });
    const readable = config.metadata.threadline_session_id;
    expect(records.map((record) => record.sessionId)).toEqual([readable, readable]);
    // A session_id in metadata that threadline did not announce is not trusted.
    await echo.invoke("third", { callbacks: [handler], metadata: { user_id: "u1", session_id: "made-up" } });
    await handler.flush();
    expect(records[2]?.sessionId).toBe(readable);
  });

  it("records a model called on its own as an llm run, with message input", async () => {
    const { handler, records } = recordingHandler();
    const model = new FakeListChatModel({ responses: ["pong"] });
    const reply = await model.invoke([new HumanMessage("ping")], {
      callbacks: [handler],
      metadata: { user_id: "solo" },
    });
    expect(reply).toBeInstanceOf(AIMessage);
    await handler.flush();
    expect(records[0]).toMatchObject({ name: "FakeListChatModel", userId: "solo", toolCalls: [] });
    expect(records[0]?.input).toEqual([[expect.objectContaining({ content: "ping" })]]);
  });

  it("rejects bad options when it is built: a sessionManager with manager-owned options, a callback that is not a function", () => {
    const sessionManager = new SessionManager();
    for (const conflicting of [{ inactivityTimeout: 30 }, { now: Date.now }, { cleanupInterval: 0 }]) {
      expect(() => new ThreadlineCallbackHandler({ sessionManager, ...conflicting })).toThrow(
        expect.objectContaining({
          code: "INVALID_OPTION",
          message: expect.stringContaining("[threadline] [langchain]"),
        }),
      );
    }
    expect(() => new ThreadlineCallbackHandler({ sessionManager, namespace: "ok" })).not.toThrow();
    const notAFunction = "x" as unknown as () => void;
    expect(() => new ThreadlineCallbackHandler({ onRecord: notAFunction })).toThrow(
      expect.objectContaining({
        code: "INVALID_OPTION",
        message: expect.stringContaining("onRecord must be a function"),
      }),
    );
    expect(() => new ThreadlineCallbackHandler({ onError: notAFunction })).toThrow(
      expect.objectContaining({ code: "INVALID_OPTION" }),
    );
    expect(() => new ThreadlineCallbackHandler({ maxRunsInFlight: 0 })).toThrow(
      expect.objectContaining({ code: "INVALID_OPTION", message: expect.stringContaining("maxRunsInFlight") }),
    );
    expect(() => new ThreadlineCallbackHandler({ namespace: " " })).toThrow(
      expect.objectContaining({ code: "INVALID_NAMESPACE" }),
    );
    expect(() => new ThreadlineCallbackHandler({ inactivityTimeout: 0 })).toThrow(
      expect.objectContaining({ code: "INVALID_TIMEOUT" }),
    );
  });
});
