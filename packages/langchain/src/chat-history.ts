import { BaseListChatMessageHistory } from "@langchain/core/chat_history";
import {
  type BaseMessage,
  mapChatMessagesToStoredMessages,
  mapStoredMessagesToChatMessages,
  type StoredMessage,
  SystemMessage,
} from "@langchain/core/messages";
import { SessionError, type SessionManager, type SessionRef } from "@threadline/session-core";
import { startsExchange } from "./exchanges.js";

/** Options for {@link SessionChatMessageHistory}. */
export interface SessionChatMessageHistoryOptions {
  /**
   * The manager whose store keeps the messages; the store must support conversation items. Its
   * `maxItems` and `maxItemBytes` bound what the session keeps (defaults 2,000 messages, 2 MiB):
   * the oldest whole exchanges go first, atomically with the write that overflows.
   */
  sessionManager: SessionManager;
  /** The session the messages belong to, e.g. from `sessionManager.resolve(userId)`. */
  session: SessionRef;
  /** Read only the last `maxMessages` stored messages (all when omitted). Older ones stay stored. */
  maxMessages?: number;
  /**
   * The conversation's system message, kept outside the stored (and trimmed) exchanges:
   * `getMessages()` returns it first, before the stored ones, however many exchanges were trimmed
   * or `maxMessages` leaves out. A leading system message equal to it in a batch given to
   * `addMessages` is not stored again (e.g. a `RunnableWithMessageHistory` input that repeats it).
   */
  systemMessage?: string | SystemMessage;
  /**
   * The request's id (a webhook's message id, an idempotency key), to append its messages once
   * however often the request is retried or redelivered. The history's first write uses this id,
   * its n-th write `${operationId}#n`. A repeated write appends nothing, also when a retried model
   * answered differently: the first answer stays the one on record. Needs a store whose items
   * support `apply` (memory, Redis); others reject with `UNSUPPORTED`.
   */
  operationId?: string;
}

/** What a write did: whether it appended (false for a repeated operation id) and how many old messages it trimmed. */
export interface AppendMessagesResult {
  applied: boolean;
  /** Messages dropped from the front (whole exchanges) to stay within the manager's bounds. */
  trimmed: number;
}

/**
 * A LangChain chat history kept with a threadline session, in the same store. Messages are
 * stored as LangChain's `StoredMessage` JSON through the manager's conversation items, so they
 * are readable only while the session is the user's live session and vanish when it ends or
 * expires: after the inactivity timeout the user starts with an empty history.
 *
 * **Bounded, in whole exchanges.** A human message starts an exchange; the AI messages, tool and
 * function results after it continue it (one group in the store), so when the manager's
 * `maxItems`/`maxItemBytes` trim, they drop whole exchanges, oldest first, and never leave an AI
 * tool call without its results. Each `addMessages` batch is one atomic write (a batch holding
 * several exchanges is kept or trimmed as one). An exchange larger than the bounds by itself is
 * refused (`ITEMS_TOO_LARGE`) and nothing of it is stored. The `systemMessage` is kept outside.
 *
 * Reading or writing does not renew the session; runs do (through the handler or `sessionConfig`).
 * Writes to a session that has ended reject with `SessionError` `SESSION_ENDED`, so a late
 * write never lands in a newer conversation. A store without items support rejects with `UNSUPPORTED`.
 *
 * @example
 * const session = await sessions.resolve("user-123");
 * const history = new SessionChatMessageHistory({ sessionManager: sessions, session, systemMessage: "Be brief." });
 * await history.addMessages([new HumanMessage("hi"), new AIMessage("hello!")]);
 */
export class SessionChatMessageHistory extends BaseListChatMessageHistory {
  lc_namespace: string[] = ["threadline", "langchain", "chat_history"];
  /** The session this history belongs to. */
  readonly session: SessionRef;
  /** The request's id given as `operationId`, if any. */
  readonly operationId: string | undefined;
  readonly #manager: SessionManager;
  readonly #maxMessages: number | undefined;
  readonly #systemMessage: SystemMessage | undefined;
  #writes = 0;

  constructor(options: SessionChatMessageHistoryOptions) {
    super();
    this.#manager = options.sessionManager;
    this.session = {
      namespace: options.session.namespace,
      userId: options.session.userId,
      sessionId: options.session.sessionId,
    };
    const { maxMessages, systemMessage, operationId } = options;
    if (maxMessages !== undefined && !(Number.isInteger(maxMessages) && maxMessages >= 0)) {
      throw invalid(`maxMessages must be a whole number ≥ 0, got ${String(maxMessages)}.`);
    }
    if (operationId !== undefined && !(typeof operationId === "string" && operationId.length > 0)) {
      throw invalid(`operationId must be a non-empty string (e.g. the request's id), got ${String(operationId)}.`);
    }
    if (systemMessage !== undefined && typeof systemMessage !== "string" && !SystemMessage.isInstance(systemMessage)) {
      throw invalid("systemMessage must be a string or a SystemMessage.");
    }
    this.#maxMessages = maxMessages;
    this.operationId = operationId;
    this.#systemMessage = typeof systemMessage === "string" ? new SystemMessage(systemMessage) : systemMessage;
  }

  /** The `systemMessage` (when set), then the session's stored messages, oldest first (the last `maxMessages` when set). */
  async getMessages(): Promise<BaseMessage[]> {
    const items = await this.#manager.getItems(this.session, this.#maxMessages);
    const stored = mapStoredMessagesToChatMessages(items.map((item, index) => storedMessage(item, index)));
    return this.#systemMessage === undefined ? stored : [this.#systemMessage, ...stored];
  }

  /** Appends one message (an AI or tool message continues the current exchange). */
  async addMessage(message: BaseMessage): Promise<void> {
    await this.addMessages([message]);
  }

  /** Appends messages in order, in one atomic store write. */
  override async addMessages(messages: BaseMessage[]): Promise<void> {
    await this.appendMessages(messages);
  }

  /**
   * {@link addMessages} that says what it did. `operationId` overrides the history's for this
   * write (exactly this id, no `#n`): a repeat appends nothing (`applied: false`).
   */
  async appendMessages(
    messages: readonly BaseMessage[],
    options?: { operationId?: string },
  ): Promise<AppendMessagesResult> {
    const batch = this.#withoutKnownSystemMessage(messages);
    if (batch.length === 0) return { applied: false, trimmed: 0 };
    const operationId = options?.operationId ?? this.#nextOperationId();
    const first = batch[0] as BaseMessage;
    const change = {
      type: "append" as const,
      items: mapChatMessagesToStoredMessages([...batch]),
      // An answer (AI, tool result) joins the exchange its question started.
      ...(startsExchange(first) ? {} : { continuesGroup: true }),
    };
    if (operationId === undefined && this.#manager.store.items?.apply === undefined) {
      // A store without atomic changes keeps no bounds or groups: plain append, as before.
      await this.#manager.addItems(this.session, change.items);
      return { applied: true, trimmed: 0 };
    }
    try {
      return await this.#manager.changeItems(
        this.session,
        change,
        operationId === undefined ? undefined : { operationId },
      );
    } catch (error) {
      // Same id, other messages: a retried request whose model answered differently. It was appended once.
      if (SessionError.isInstance(error) && error.code === "OPERATION_CONFLICT") return { applied: false, trimmed: 0 };
      throw error;
    }
  }

  /** Removes the session's messages (the `systemMessage` is not stored and stays). */
  override async clear(): Promise<void> {
    await this.#manager.clearItems(this.session);
  }

  #nextOperationId(): string | undefined {
    if (this.operationId === undefined) return undefined;
    this.#writes++;
    return this.#writes === 1 ? this.operationId : `${this.operationId}#${this.#writes}`;
  }

  #withoutKnownSystemMessage(messages: readonly BaseMessage[]): readonly BaseMessage[] {
    if (!Array.isArray(messages)) throw invalid("addMessages takes an array of messages.");
    const system = this.#systemMessage;
    const first = messages[0];
    if (system !== undefined && first !== undefined && SystemMessage.isInstance(first) && sameContent(first, system)) {
      return messages.slice(1);
    }
    return messages;
  }
}

function sameContent(a: BaseMessage, b: BaseMessage): boolean {
  return JSON.stringify(a.content) === JSON.stringify(b.content);
}

function invalid(message: string): SessionError {
  return new SessionError({ code: "INVALID_OPTION", source: "langchain", message });
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
