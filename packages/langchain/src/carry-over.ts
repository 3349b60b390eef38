import {
  type BaseMessage,
  mapChatMessagesToStoredMessages,
  mapStoredMessagesToChatMessages,
  type StoredMessage,
} from "@langchain/core/messages";
import type { CarryOver } from "@threadline/session-core";

/** What {@link messagesCarryOver}'s `seed` gets: the ended session's messages, this once. */
export interface MessagesCarryOverContext {
  /** The ended session's stored messages, oldest first (what `SessionChatMessageHistory` kept of it). */
  messages: BaseMessage[];
  /** The ended session. */
  previousSessionId: string;
  /** The new session's id. */
  sessionId: string;
}

/**
 * The manager's `carryOver` option for apps whose sessions hold `SessionChatMessageHistory`
 * messages: `seed` gets the ended session's messages as LangChain messages and returns the ones to
 * start the user's next session with (a summary as a `SystemMessage`, a note of the user's name),
 * or nothing. They are stored as the new session's first exchange, so trimming drops them like any
 * old exchange once the new conversation outgrows the bounds. Items that are not stored messages
 * (another adapter's) are skipped. `within`: seconds an ended session's messages wait for the
 * next session (default one day).
 *
 * @example
 * const sessions = new SessionManager({
 *   carryOver: messagesCarryOver(({ messages }) => {
 *     const asked = messages.findLast((message) => message.getType() === "human")?.text;
 *     return asked ? [new SystemMessage(`Last time the user asked: ${asked}`)] : [];
 *   }),
 * });
 */
export function messagesCarryOver(
  seed: (
    context: MessagesCarryOverContext,
  ) => readonly BaseMessage[] | undefined | Promise<readonly BaseMessage[] | undefined>,
  options: { within?: number } = {},
): CarryOver {
  return {
    ...(options.within === undefined ? {} : { within: options.within }),
    async seed({ session, previousSessionId, items }) {
      const stored = items.filter(isStoredMessage);
      const messages = mapStoredMessagesToChatMessages(stored);
      const seeded = await seed({ messages, previousSessionId, sessionId: session.sessionId });
      return seeded === undefined || seeded.length === 0 ? undefined : mapChatMessagesToStoredMessages([...seeded]);
    },
  };
}

function isStoredMessage(item: unknown): item is StoredMessage {
  const candidate = item as Partial<StoredMessage> | null;
  return typeof candidate?.type === "string" && typeof candidate.data === "object" && candidate.data !== null;
}
