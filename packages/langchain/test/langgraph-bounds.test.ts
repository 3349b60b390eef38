// Bounding a LangGraph thread: trimThreadMessages in the graph keeps the state's messages within
// a bound in whole exchanges, and onSessionEnd deletes an ended session's checkpointer thread.
import { AIMessage, type BaseMessage, HumanMessage, SystemMessage, ToolMessage } from "@langchain/core/messages";
import { FakeListChatModel } from "@langchain/core/utils/testing";
import { END, MemorySaver, MessagesAnnotation, START, StateGraph } from "@langchain/langgraph";
import { globalSessionId } from "@threadline/session-core";
import { createFakeClock } from "@threadline/session-core/testing";
import { describe, expect, it } from "vitest";
import { sessionConfig, ThreadlineCallbackHandler, trimThreadMessages } from "../src/index.js";

/** A graph whose assistant sometimes calls a tool first, then trims the thread to `maxMessages`. */
function boundedGraph(checkpointer: MemorySaver, maxMessages: number) {
  const model = new FakeListChatModel({ responses: ["ok"] });
  return new StateGraph(MessagesAnnotation)
    .addNode("assistant", async (state, config) => {
      const question = state.messages.at(-1)?.text ?? "";
      if (!question.startsWith("tool")) return { messages: [await model.invoke(state.messages, config)] };
      const id = `call-${question}`;
      return {
        messages: [
          new AIMessage({ content: "", tool_calls: [{ id, name: "lookup", args: {}, type: "tool_call" }] }),
          new ToolMessage({ content: "found", tool_call_id: id }),
          new AIMessage("here it is"),
        ],
      };
    })
    .addNode("bound", (state) => ({ messages: trimThreadMessages(state.messages, { maxMessages }) }))
    .addEdge(START, "assistant")
    .addEdge("assistant", "bound")
    .addEdge("bound", END)
    .compile({ checkpointer });
}

describe("trimThreadMessages", () => {
  it("keeps a graph's thread bounded in whole exchanges, with its system message", async () => {
    const handler = new ThreadlineCallbackHandler({ namespace: "support", now: createFakeClock().now });
    const graph = boundedGraph(new MemorySaver(), 7);
    const config = await sessionConfig(handler, { userId: "ada" });
    await graph.invoke({ messages: [new SystemMessage("Be brief."), new HumanMessage("hello")] }, config);
    for (let turn = 0; turn < 300; turn++) {
      const text = turn % 3 === 0 ? `tool ${turn}` : `question ${turn}`;
      const state = await graph.invoke({ messages: [new HumanMessage(text)] }, config);
      const messages: BaseMessage[] = state.messages;
      expect(messages.length).toBeLessThanOrEqual(7);
      expect(messages[0]?.getType()).toBe("system");
      expect(messages[1]?.getType()).toBe("human");
      for (const [index, message] of messages.entries()) {
        if (message.getType() === "tool") expect((messages[index - 1] as AIMessage).tool_calls).toHaveLength(1);
      }
    }
    const state = await graph.getState(config);
    // Turn 297 called a tool (4 messages), 298 and 299 asked (2 each): 1 + 8 is over 7, so the
    // tool exchange of 297 went, whole.
    expect((state.values.messages as BaseMessage[]).map((message) => message.text)).toEqual([
      "Be brief.",
      "question 298",
      "ok",
      "question 299",
      "ok",
    ]);
    await handler.flush();
  });

  it("leaves an exchange larger than the bound whole, and says when messages lack ids", () => {
    const exchange = [new HumanMessage({ content: "q", id: "h" }), new AIMessage({ content: "a", id: "a" })];
    expect(trimThreadMessages(exchange, { maxMessages: 1 })).toEqual([]);
    const two = [
      ...exchange,
      new HumanMessage({ content: "q2", id: "h2" }),
      new AIMessage({ content: "a2", id: "a2" }),
    ];
    expect(trimThreadMessages(two, { maxMessages: 2 }).map((removal) => removal.id)).toEqual(["h", "a"]);
    expect(() => trimThreadMessages([new HumanMessage("q"), ...exchange], { maxMessages: 2 })).toThrow(/no id/);
    expect(() => trimThreadMessages(exchange, { maxMessages: 0 })).toThrow(
      expect.objectContaining({ code: "INVALID_OPTION" }),
    );
  });

  it("with onSessionEnd deleting the thread, an ended session leaves nothing in the checkpointer", async () => {
    const clock = createFakeClock();
    const checkpointer = new MemorySaver();
    const handler = new ThreadlineCallbackHandler({
      namespace: "support",
      inactivityTimeout: 60,
      now: clock.now,
      onSessionEnd: ({ session }) => checkpointer.deleteThread(globalSessionId(session)),
    });
    const graph = boundedGraph(checkpointer, 20);
    const first = await sessionConfig(handler, { userId: "ada" });
    await graph.invoke({ messages: [new HumanMessage("hello")] }, first);
    expect(Object.keys(checkpointer.storage)).toEqual([first.configurable.thread_id]);
    clock.advance(61);
    const second = await sessionConfig(handler, { userId: "ada" });
    await graph.invoke({ messages: [new HumanMessage("hello again")] }, second);
    await handler.flush();
    expect(Object.keys(checkpointer.storage)).toEqual([second.configurable.thread_id]);
  });
});
