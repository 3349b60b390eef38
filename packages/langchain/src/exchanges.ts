import { type BaseMessage, RemoveMessage } from "@langchain/core/messages";
import { SessionError } from "@threadline/session-core";

/**
 * Whether a message opens an exchange. A human message starts one; the AI messages, tool results
 * and function results that answer it continue it, so an AI message that calls tools and the tool
 * messages with its results always stay together. A system message starts one too (it comes
 * before the human message it frames).
 */
export function startsExchange(message: BaseMessage): boolean {
  const type = message.getType();
  if (type === "human" || type === "system") return true;
  // A generic ChatMessage says its role in words.
  if (type === "generic") {
    const role = (message as BaseMessage & { role?: unknown }).role;
    return role === "user" || role === "human" || role === "system";
  }
  return false;
}

/** Options of {@link trimThreadMessages}. */
export interface TrimThreadMessagesOptions {
  /** Most messages the thread keeps, its leading system message included. Whole number ≥ 1. */
  maxMessages: number;
}

/**
 * What a LangGraph node returns to keep a thread's `messages` bounded: `RemoveMessage`s for the
 * oldest whole exchanges (a human message and the AI and tool messages that answer it) until at
 * most `maxMessages` stay. A leading system message always stays, and an exchange is never split,
 * so the model never sees an AI tool call without its results. When the newest exchange alone is
 * larger than `maxMessages`, it stays whole (with the system message): nothing else is left to drop.
 *
 * The messages need ids, which LangGraph's `messagesStateReducer` (`MessagesAnnotation`) gives
 * every message it stores. Returns `[]` when the thread is within bounds.
 *
 * @example
 * const graph = new StateGraph(MessagesAnnotation)
 *   .addNode("assistant", async (state) => ({ messages: [await model.invoke(state.messages)] }))
 *   .addNode("bound", (state) => ({ messages: trimThreadMessages(state.messages, { maxMessages: 40 }) }))
 *   .addEdge(START, "assistant").addEdge("assistant", "bound").addEdge("bound", END)
 *   .compile({ checkpointer });
 */
export function trimThreadMessages(
  messages: readonly BaseMessage[],
  options: TrimThreadMessagesOptions,
): RemoveMessage[] {
  const maxMessages = options?.maxMessages;
  if (!(Number.isSafeInteger(maxMessages) && maxMessages >= 1)) {
    throw new SessionError({
      code: "INVALID_OPTION",
      source: "langchain",
      message: `maxMessages must be a whole number ≥ 1, got ${String(maxMessages)}.`,
    });
  }
  const first = messages[0];
  const keepsSystem = first !== undefined && first.getType() === "system";
  let start = keepsSystem ? 1 : 0;
  let kept = messages.length;
  // Drop whole exchanges from the front while over the bound and another exchange is left after this one.
  while (kept > maxMessages) {
    let next = start + 1;
    while (next < messages.length && !startsExchange(messages[next] as BaseMessage)) next++;
    if (next >= messages.length) break; // the newest exchange stays whole
    kept -= next - start;
    start = next;
  }
  const removed: RemoveMessage[] = [];
  for (let index = keepsSystem ? 1 : 0; index < start; index++) {
    const id = (messages[index] as BaseMessage).id;
    if (id === undefined) {
      throw new SessionError({
        code: "INVALID_OPTION",
        source: "langchain",
        message: `Message ${index} has no id, so it cannot be removed from the thread. Keep messages in a state with LangGraph's messagesStateReducer (MessagesAnnotation), which gives each one an id.`,
      });
    }
    removed.push(new RemoveMessage({ id }));
  }
  return removed;
}
