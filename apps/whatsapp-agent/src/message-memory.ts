import type { AgentInputItem, Session } from "@openai/agents";
import { type ErrorHandler, SessionError, type SessionManager, type SessionRef } from "@threadline/session-core";

/** Options for {@link MessageMemory}. */
export interface MessageMemoryOptions {
  sessionManager: SessionManager;
  /** The run's threadline session, once the hooks resolved it (`hooks.sessionOf(context)`); `undefined` = no memory. */
  session: () => Promise<SessionRef | undefined>;
  /** The WhatsApp message id: a redelivery of the message appends its turn once. */
  messageId: string;
  /** Store failures (operation `"memory"`): the memory never throws into a run. */
  onError: ErrorHandler;
}

/**
 * The conversation memory of one message's run: the session's items, written with the WhatsApp
 * message id as the operation id. The run's first write (the user's message) starts the turn and
 * uses the message id; its later writes (the agents' answers, handoffs) continue the turn as
 * `${messageId}#2`, `#3`… So when WhatsApp redelivers a message whose turn was already stored (the
 * reply was written but its send failed, or the instance died before marking it done), the rerun
 * appends nothing: the history holds the message once. A rerun whose agent answered differently
 * keeps the first answer on record. The turn is one group, so the manager's bounds trim it whole.
 *
 * On a store without atomic item changes (`UNSUPPORTED`), writes fall back to plain appends.
 */
export class MessageMemory implements Session {
  readonly #options: MessageMemoryOptions;
  #writes = 0;
  #atomic = true;

  constructor(options: MessageMemoryOptions) {
    this.#options = options;
  }

  async getSessionId(): Promise<string> {
    return (await this.#options.session())?.sessionId ?? "";
  }

  async getItems(limit?: number): Promise<AgentInputItem[]> {
    return this.#guarded(
      [],
      async (session) => (await this.#options.sessionManager.getItems(session, limit)) as AgentInputItem[],
    );
  }

  async addItems(items: AgentInputItem[]): Promise<void> {
    if (items.length === 0) return;
    this.#writes++;
    const continuesGroup = this.#writes > 1;
    const operationId = `whatsapp:${this.#options.messageId}${continuesGroup ? `#${this.#writes}` : ""}`;
    await this.#guarded(undefined, async (session) => {
      const manager = this.#options.sessionManager;
      try {
        if (this.#atomic) return await manager.addItems(session, items, { operationId, continuesGroup });
      } catch (error) {
        if (!SessionError.isInstance(error)) throw error;
        // A rerun whose agent answered differently: this message's turn is already on record.
        if (error.code === "OPERATION_CONFLICT") return;
        if (error.code !== "UNSUPPORTED") throw error;
        this.#atomic = false;
      }
      await manager.addItems(session, items, { continuesGroup });
    });
  }

  async popItem(): Promise<AgentInputItem | undefined> {
    return this.#guarded(
      undefined,
      async (session) => (await this.#options.sessionManager.popItem(session)) as AgentInputItem | undefined,
    );
  }

  async clearSession(): Promise<void> {
    await this.#guarded(undefined, (session) => this.#options.sessionManager.clearItems(session));
  }

  async #guarded<T>(fallback: T, call: (session: SessionRef) => Promise<T>): Promise<T> {
    const session = await this.#options.session();
    if (session === undefined) return fallback;
    try {
      return await call(session);
    } catch (error) {
      this.#options.onError(error instanceof Error ? error : new Error(String(error)), {
        operation: "memory",
        userId: session.userId,
        sessionId: session.sessionId,
      });
      return fallback;
    }
  }
}
