import type { AgentInputItem, Session } from "@openai/agents";
import { SessionError, type SessionManager, type SessionRef } from "@threadline/session-core";
import { createErrorSink, type ErrorHandler, type ErrorSink } from "@threadline/session-core/adapter-kit";
import { source } from "./options.js";

/** Options for {@link SessionMemory}. */
export interface SessionMemoryOptions {
  /** The manager whose store keeps the items (the store needs the optional `items` capability). */
  sessionManager: SessionManager;
  /** The threadline session the memory belongs to, e.g. from `sessionManager.resolve(userId)`. */
  session: SessionRef;
  /**
   * Receives store failures (operation `"memory"`). The memory never throws into a run: a failed
   * read gives the run no history, a failed write loses that turn. Pass one handler shared by all
   * the memories you build. Default: log the first failure of this memory, so memories built per
   * run without `onError` log once per run during an outage.
   */
  onError?: ErrorHandler;
}

/**
 * An Agents SDK `Session` (conversation memory) scoped to one threadline session: the agent
 * remembers earlier turns while the session lives, and starts fresh once it expires or is
 * closed, because the items live in the session's store entry and go with it.
 *
 * Items go through the `SessionManager`'s items API, never to the store directly; they are kept
 * as JSON, so what comes back is `JSON.parse(JSON.stringify(item))`. Writes to a session that
 * has ended are refused (`SESSION_ENDED`) rather than landing in the user's next conversation.
 *
 * The run wrapper (`hooks.run`) creates one per run; build one yourself to pass as
 * `runner.run(agent, input, { session, context: { userId } })`. On a Runner with hooks attached,
 * the `context.userId` is what puts the run in the same user's session (without it the hooks file
 * the run under `"anonymous"`); resolve the session in the hooks' namespace:
 * `hooks.sessionManager.resolve(userId, hooks.namespace)`.
 */
export class SessionMemory implements Session {
  readonly #manager: SessionManager;
  readonly #session: SessionRef;
  readonly #errors: ErrorSink;

  constructor(options: SessionMemoryOptions) {
    const { sessionManager, session } = options ?? {};
    if (typeof sessionManager?.getItems !== "function" || typeof session !== "object" || session === null) {
      throw new SessionError({
        code: "INVALID_OPTION",
        source,
        message:
          "SessionMemory needs { sessionManager, session }: your SessionManager and a session from sessionManager.resolve(userId, namespace).",
      });
    }
    this.#manager = options.sessionManager;
    this.#session = {
      namespace: options.session.namespace,
      userId: options.session.userId,
      sessionId: options.session.sessionId,
    };
    this.#errors = createErrorSink(source, options.onError);
  }

  /** The threadline session id. */
  async getSessionId(): Promise<string> {
    return this.#session.sessionId;
  }

  /** The last `limit` items (all when omitted), oldest first; `[]` once the session has ended or when the store fails. */
  async getItems(limit?: number): Promise<AgentInputItem[]> {
    try {
      // The store returns exactly the JSON values the SDK gave to addItems.
      return (await this.#manager.getItems(this.#session, limit)) as AgentInputItem[];
    } catch (error) {
      this.#report(error);
      return [];
    }
  }

  /** Appends items. A store failure or an ended session loses them (reported to `onError`) instead of failing the run. */
  async addItems(items: AgentInputItem[]): Promise<void> {
    try {
      await this.#manager.addItems(this.#session, items);
    } catch (error) {
      this.#report(error);
    }
  }

  /** Removes and returns the newest item; `undefined` when there is none or the store fails. */
  async popItem(): Promise<AgentInputItem | undefined> {
    try {
      return (await this.#manager.popItem(this.#session)) as AgentInputItem | undefined;
    } catch (error) {
      this.#report(error);
      return undefined;
    }
  }

  /** Forgets every item of the session (the session itself stays live). */
  async clearSession(): Promise<void> {
    try {
      await this.#manager.clearItems(this.#session);
    } catch (error) {
      this.#report(error);
    }
  }

  #report(error: unknown): void {
    this.#errors.report(error, {
      operation: "memory",
      userId: this.#session.userId,
      sessionId: this.#session.sessionId,
    });
  }
}
