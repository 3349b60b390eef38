import { BaseListChatMessageHistory } from "@langchain/core/chat_history";
import {
  type BaseMessage,
  mapChatMessagesToStoredMessages,
  mapStoredMessagesToChatMessages,
  type StoredMessage,
} from "@langchain/core/messages";
import { SessionError, type SessionManager, type SessionRef } from "@threadline/session-core";

/** Options for {@link SessionChatMessageHistory}. */
export interface SessionChatMessageHistoryOptions {
  /** The manager whose store keeps the messages; the store must support conversation items. */
  sessionManager: SessionManager;
  /** The session the messages belong to, e.g. from `sessionManager.resolve(userId)`. */
  session: SessionRef;
  /** Read only the last `maxMessages` messages (all when omitted). Older ones stay stored. */
  maxMessages?: number;
}

/**
 * A LangChain chat history kept with a threadline session, in the same store. Messages are
 * stored as LangChain's `StoredMessage` JSON through the manager's conversation items, so they
 * are readable only while the session is the user's live session and vanish when it ends or
 * expires: after the inactivity timeout the user starts with an empty history.
 *
 * Reading or writing does not renew the session; runs do (through the handler or `sessionConfig`).
 * Writes to a session that has ended reject with `SessionError` `SESSION_ENDED`, so a late
 * write never lands in a newer conversation. A store without items support rejects with `UNSUPPORTED`.
 *
 * @example
 * const session = await sessions.resolve("user-123");
 * const history = new SessionChatMessageHistory({ sessionManager: sessions, session });
 * await history.addMessages([new HumanMessage("hi"), new AIMessage("hello!")]);
 */
export class SessionChatMessageHistory extends BaseListChatMessageHistory {
  lc_namespace: string[] = ["threadline", "langchain", "chat_history"];
  /** The session this history belongs to. */
  readonly session: SessionRef;
  readonly #manager: SessionManager;
  readonly #maxMessages: number | undefined;

  constructor(options: SessionChatMessageHistoryOptions) {
    super();
    this.#manager = options.sessionManager;
    this.session = {
      namespace: options.session.namespace,
      userId: options.session.userId,
      sessionId: options.session.sessionId,
    };
    const maxMessages = options.maxMessages;
    if (maxMessages !== undefined && !(Number.isInteger(maxMessages) && maxMessages >= 0)) {
      throw new SessionError({
        code: "INVALID_OPTION",
        source: "langchain",
        message: `maxMessages must be a whole number ≥ 0, got ${String(maxMessages)}.`,
      });
    }
    this.#maxMessages = maxMessages;
  }

  /** The session's messages, oldest first (the last `maxMessages` when set). */
  async getMessages(): Promise<BaseMessage[]> {
    const items = await this.#manager.getItems(this.session, this.#maxMessages);
    return mapStoredMessagesToChatMessages(items.map((item, index) => storedMessage(item, index)));
  }

  /** Appends one message. */
  async addMessage(message: BaseMessage): Promise<void> {
    await this.addMessages([message]);
  }

  /** Appends messages in order, in one store write. */
  override async addMessages(messages: BaseMessage[]): Promise<void> {
    await this.#manager.addItems(this.session, mapChatMessagesToStoredMessages(messages));
  }

  /** Removes the session's messages. */
  override async clear(): Promise<void> {
    await this.#manager.clearItems(this.session);
  }
}

function storedMessage(item: unknown, index: number): StoredMessage {
  const candidate = item as Partial<StoredMessage> | null;
  if (typeof candidate?.type === "string" && typeof candidate.data === "object" && candidate.data !== null) {
    return candidate as StoredMessage;
  }
  // Something else wrote items to this session; reading it as messages would lose data silently.
  throw new SessionError({
    code: "STORE_ERROR",
    source: "langchain",
    message: `Item ${index} of this session is not a stored LangChain message. Keep one writer of conversation items per session (this history, or another adapter), not both.`,
  });
}
