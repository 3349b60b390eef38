import { AIMessage, type BaseMessage, HumanMessage, SystemMessage, ToolMessage } from "@langchain/core/messages";
import { StringOutputParser } from "@langchain/core/output_parsers";
import { ChatPromptTemplate } from "@langchain/core/prompts";
import { RunnableLambda } from "@langchain/core/runnables";
import { FakeListChatModel, FakeLLM } from "@langchain/core/utils/testing";
import type { RunRecord } from "@threadline/session-core";
import { createFakeClock } from "@threadline/session-core/testing";
import { describe, expect, it } from "vitest";
import { sessionConfig, ThreadlineCallbackHandler } from "../src/index.js";
import { UsageReportingFakeChatModel } from "./support.js";

/** A fake chat model that names itself as chat model integrations do (`ls_model_name`). */
class NamedFakeChatModel extends UsageReportingFakeChatModel {
  constructor(
    readonly modelName: string,
    responses: string[],
  ) {
    super({ responses });
  }

  override getLsParams(options: this["ParsedCallOptions"]) {
    return { ...super.getLsParams(options), ls_model_name: this.modelName };
  }
}

/** A serializable fake completion model given a `model` field, as LLM integrations serialize it (kwargs). */
class ModelFieldFakeLLM extends FakeLLM {
  override lc_serializable = true;

  constructor(model: string, response: string) {
    super({ response, ...{ model } });
  }
}

function handlerWithRecords(options: ConstructorParameters<typeof ThreadlineCallbackHandler>[0] = {}) {
  const records: RunRecord[] = [];
  const handler = new ThreadlineCallbackHandler({
    namespace: "support",
    now: createFakeClock().now,
    onRecord: (record) => void records.push(record),
    ...options,
  });
  return { handler, records };
}

describe("turn, models and messages in the record", () => {
  it("a prompt → chat model → parser chain: the session's turn, the model's name, the conversation", async () => {
    const { handler, records } = handlerWithRecords();
    const prompt = ChatPromptTemplate.fromMessages([
      ["system", "You are a support bot."],
      ["human", "{question}"],
    ]);
    const chain = prompt.pipe(new NamedFakeChatModel("fake-gpt-1", ["Sure.", "Done."])).pipe(new StringOutputParser());
    await chain.invoke({ question: "Can you help?" }, await sessionConfig(handler, { userId: "user-1" }));
    await chain.invoke({ question: "Refund please" }, { metadata: { user_id: "user-1" }, callbacks: [handler] });
    await handler.flush();
    expect(records.map((record) => record.turn)).toEqual([1, 2]);
    expect(records[0]?.models).toEqual(["fake-gpt-1"]);
    expect(records[0]?.messages).toEqual([
      { role: "system", content: "You are a support bot." },
      { role: "user", content: "Can you help?" },
      { role: "assistant", content: "Sure." },
    ]);
    expect(records[1]?.messages?.at(-1)).toEqual({ role: "assistant", content: "Done." });
  });

  it("a loop that calls models again adds only what follows the previous answer, models in order of first use", async () => {
    const { handler, records } = handlerWithRecords();
    const planner = new NamedFakeChatModel("planner-model", ["I will look it up."]);
    const writer = new NamedFakeChatModel("writer-model", ["Your order shipped."]);
    const loop = RunnableLambda.from(async (question: string, config) => {
      const history: BaseMessage[] = [new HumanMessage(question)];
      history.push(await planner.invoke(history, config));
      history.push(new ToolMessage({ content: "order 42: shipped", tool_call_id: "call-1" }));
      return (await writer.invoke(history, config)).content;
    });
    await loop.invoke("Where is my order?", { metadata: { user_id: "user-2" }, callbacks: [handler] });
    await handler.flush();
    const [record] = records;
    expect(record?.models).toEqual(["planner-model", "writer-model"]);
    expect(record?.messages).toEqual([
      { role: "user", content: "Where is my order?" },
      { role: "assistant", content: "I will look it up." },
      { role: "tool", content: "order 42: shipped" },
      { role: "assistant", content: "Your order shipped." },
    ]);
    expect(record?.turn).toBe(1);
  });

  it("keeps the newest maxMessagesPerRun messages, each cut to maxValueLength", async () => {
    const { handler, records } = handlerWithRecords({ maxMessagesPerRun: 3, maxValueLength: 100 });
    const history = [
      new SystemMessage("Be brief."),
      new HumanMessage("first"),
      new AIMessage("one"),
      new HumanMessage("y".repeat(5_000)),
    ];
    await new FakeListChatModel({ responses: ["two"] }).invoke(history, {
      metadata: { user_id: "user-3" },
      callbacks: [handler],
    });
    await handler.flush();
    const messages = records[0]?.messages ?? [];
    expect(messages.map((message) => message.role)).toEqual(["assistant", "user", "assistant"]);
    expect(messages[1]?.content).toMatch(/^y{100}… \[truncated by threadline\]$/);
    expect(messages[2]).toEqual({ role: "assistant", content: "two" });
    // FakeListChatModel names no model: none rather than a guess.
    expect(records[0]?.models).toBeUndefined();
  });

  it("a completion model (string prompts): the prompt and the answer, the model from its kwargs", async () => {
    const { handler, records } = handlerWithRecords();
    const llm = new ModelFieldFakeLLM("fake-completions", "42");
    await llm.invoke("What is six times seven?", { metadata: { user_id: "user-4" }, callbacks: [handler] });
    await handler.flush();
    expect(records[0]?.models).toEqual(["fake-completions"]);
    expect(records[0]?.messages).toEqual([
      { role: "user", content: "What is six times seven?" },
      { role: "assistant", content: "42" },
    ]);
  });

  it("a run without a model call has no messages or models; maxMessagesPerRun is checked", async () => {
    const { handler, records } = handlerWithRecords();
    await RunnableLambda.from((text: string) => text.toUpperCase()).invoke("hi", {
      metadata: { user_id: "user-5" },
      callbacks: [handler],
    });
    await handler.flush();
    expect(records[0]?.messages).toBeUndefined();
    expect(records[0]?.models).toBeUndefined();
    expect(records[0]?.turn).toBe(1);
    expect(() => new ThreadlineCallbackHandler({ maxMessagesPerRun: 0 })).toThrow(/maxMessagesPerRun/);
  });
});
