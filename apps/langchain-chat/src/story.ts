// Two users chat with a LangChain chain and then with a LangGraph agent. threadline decides
// which session each message belongs to; the session carries the memory (a chat history in the
// session store for the chain, a checkpointer thread for the agent). Time is simulated.
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { type BaseMessage, HumanMessage } from "@langchain/core/messages";
import { ChatPromptTemplate, MessagesPlaceholder } from "@langchain/core/prompts";
import { FakeListChatModel } from "@langchain/core/utils/testing";
import { END, MemorySaver, MessagesAnnotation, START, StateGraph } from "@langchain/langgraph";
import {
  resolveSessionConfig,
  SessionChatMessageHistory,
  sessionConfig,
  ThreadlineCallbackHandler,
  trimThreadMessages,
} from "@threadline/langchain";
import { type RunRecord, SessionManager } from "@threadline/session-core";
import { createFakeClock } from "@threadline/session-core/fake-clock";

/** LangChain's fake chat model with the story's replies, in the order the story asks. */
export function scriptedChatModel(): FakeListChatModel {
  return new FakeListChatModel({
    responses: [
      "Nice to meet you, Ada!",
      "Your name is Ada; you told me a moment ago.",
      "I don't know your name yet.",
      "I don't know your name yet.",
      "Lisbon is lovely in spring.",
      "You are going to Lisbon.",
      "You haven't told me about a trip.",
      "You haven't told me about a trip.",
    ],
  });
}

export interface ChatStoryOptions {
  /** Default: {@link scriptedChatModel}. */
  model?: BaseChatModel;
  /** Seconds of inactivity before a new session. Default 120. */
  inactivityTimeout?: number;
}

/** Tells the story line by line through `print`; returns the run records the handler emitted. */
export async function runLangChainChat(
  print: (line: string) => void,
  options: ChatStoryOptions = {},
): Promise<RunRecord[]> {
  const clock = createFakeClock();
  const sessions = new SessionManager({
    namespace: "support",
    inactivityTimeout: options.inactivityTimeout ?? 120,
    now: clock.now,
    maxItems: 200, // a session's chat history keeps at most 200 messages, trimmed in whole exchanges
  });
  const records: RunRecord[] = [];
  const handler = new ThreadlineCallbackHandler({
    sessionManager: sessions,
    onRecord: (record) => {
      records.push(record);
    },
  });
  const model = options.model ?? scriptedChatModel();
  const time = () => new Date(clock.now()).toISOString().slice(11, 19);
  const at = (hhmmss: string) => clock.set(Date.parse(`2025-01-07T${hhmmss}Z`));

  // 1. A chain whose memory is a chat history kept with the session.
  const prompt = ChatPromptTemplate.fromMessages([
    ["system", "You are a friendly support assistant. Answer in one sentence."],
    new MessagesPlaceholder("history"),
    ["human", "{question}"],
  ]);
  const chain = prompt.pipe(model);

  const chainTurn = async (userId: string, question: string) => {
    // One resolve gives the session (for the history) and the run's config, bound to the same session.
    const { session, config } = await resolveSessionConfig(handler, { userId });
    const history = new SessionChatMessageHistory({ sessionManager: sessions, session });
    const earlier = await history.getMessages();
    const reply = await chain.invoke({ history: earlier, question }, config);
    await history.addMessages([new HumanMessage(question), reply]);
    print(
      `${time()}  ${userId.padEnd(4)} ${JSON.stringify(question).padEnd(34)} -> ${session.sessionId} (${session.isNew ? "new session" : "same session"}), prompt carried ${describeEarlier(earlier)}`,
    );
    print(`          ${"".padEnd(4)} reply: ${reply.text}`);
  };

  print("1. LangChain chain + SessionChatMessageHistory (history lives in the session store)");
  at("12:00:00");
  await chainTurn("ada", "My name is Ada.");
  at("12:00:30");
  await chainTurn("ada", "What is my name?");
  await chainTurn("bob", "What is my name?");
  at("12:03:00"); // ada has been quiet for 150 s: her session has ended, and its history with it
  await chainTurn("ada", "What is my name?");

  // 2. A LangGraph agent whose memory is the checkpointer thread named by the session, bounded
  // to 40 messages (whole exchanges) by a node after the model.
  const graph = new StateGraph(MessagesAnnotation)
    .addNode("assistant", async (state, config) => ({ messages: [await model.invoke(state.messages, config)] }))
    .addNode("bound", (state) => ({ messages: trimThreadMessages(state.messages, { maxMessages: 40 }) }))
    .addEdge(START, "assistant")
    .addEdge("assistant", "bound")
    .addEdge("bound", END)
    .compile({ checkpointer: new MemorySaver() });

  const agentTurn = async (userId: string, text: string) => {
    const config = await sessionConfig(handler, { userId });
    const before = await graph.getState(config);
    const earlier = ((before.values as { messages?: BaseMessage[] }).messages ?? []).length;
    const state = await graph.invoke({ messages: [new HumanMessage(text)] }, config);
    const reply = state.messages.at(-1)?.text ?? "";
    print(
      `${time()}  ${userId.padEnd(4)} ${JSON.stringify(text).padEnd(34)} -> thread ${config.configurable.thread_id} (${earlier === 0 ? "fresh thread" : `${earlier} earlier messages`}), now ${state.messages.length} messages`,
    );
    print(`          ${"".padEnd(4)} reply: ${reply}`);
  };

  print("");
  print("2. LangGraph agent + MemorySaver keyed by configurable.thread_id (= the session's global id)");
  at("12:10:00");
  await agentTurn("ada", "I'm planning a trip to Lisbon.");
  at("12:11:00");
  await agentTurn("ada", "Where am I going?");
  await agentTurn("bob", "Where am I going?");
  at("12:14:00"); // 180 s of silence: a new session, so a new thread
  await agentTurn("ada", "Where am I going?");

  await handler.flush();
  print("");
  print(`3. One record per run from the callback handler (${records.length} runs)`);
  for (const record of records) {
    const question = lastHumanText(record.input);
    print(
      `${new Date(record.startedAt).toISOString().slice(11, 19)}  ${record.userId.padEnd(4)} ${(record.sessionId ?? "(no session)").padEnd(32)} ${(record.name ?? "").padEnd(17)} ${JSON.stringify(question)}`,
    );
  }
  return records;
}

function describeEarlier(messages: BaseMessage[]): string {
  if (messages.length === 0) return "no earlier messages";
  const first = messages[0]?.text ?? "";
  return `${messages.length} earlier messages, starting with ${JSON.stringify(first)}`;
}

/** The newest human text in a chain's or graph's input, as the handler recorded it. */
function lastHumanText(input: unknown): string {
  const fields = input as { question?: unknown; messages?: unknown };
  if (typeof fields.question === "string") return fields.question;
  if (Array.isArray(fields.messages)) {
    const last = fields.messages.at(-1) as BaseMessage | undefined;
    return last?.text ?? "";
  }
  return "";
}
