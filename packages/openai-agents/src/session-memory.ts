import type { AgentInputItem, RunContext, Session } from "@openai/agents";
import { SessionError, type SessionManager, type SessionRef } from "@threadline/session-core";
import { createErrorSink, type ErrorHandler, type ErrorSink } from "@threadline/session-core/adapter-kit";
import {
  canonicalItems,
  checkedTransaction,
  type HistoryMutationArgs,
  type HistoryTransactionArgs,
  mutatedSuffix,
  startsTurn,
} from "./history-items.js";
import { source } from "./options.js";

/** Options for {@link SessionMemory}. */
export interface SessionMemoryOptions {
  /** The manager whose store keeps the items (the store needs the optional `items` capability). */
  sessionManager: SessionManager;
  /** The threadline session the memory belongs to, e.g. from `sessionManager.resolve(userId)`. */
  session: SessionRef;
  /**
   * Receives store failures (operation `"memory"`) of the calls that never throw (`getItems`,
   * `addItems`, `popItem`, `clearSession`): a failed read gives the run no history, a failed write
   * loses that turn. Pass one handler shared by all the memories you build. Default: log the first
   * failure of this memory, so memories built per run without `onError` log once per run during an
   * outage.
   */
  onError?: ErrorHandler;
}

/** How often `applyHistoryMutations` re-reads and retries when another writer changed the history first. */
const MUTATION_ATTEMPTS = 5;

/** The SDK capabilities that need a store whose items apply changes atomically (`items.apply`). */
const atomicCapabilities = ["applyHistoryTransaction", "replaceHistoryWithCompaction", "applyHistoryMutations"];

/**
 * An Agents SDK `Session` (conversation memory) scoped to one threadline session: the agent
 * remembers earlier turns while the session lives, and starts fresh once it expires or is
 * closed, because the items live in the session's store entry and go with it.
 *
 * Besides the required `Session` methods it has the SDK's optional capabilities (0.20), which the
 * runner uses when present: the run context (`acceptsRunContext`), atomic and idempotent history
 * transactions (`applyHistoryTransaction`), compaction in one step
 * (`replaceHistoryWithCompaction`) and history rewrites (`applyHistoryMutations`). The last three
 * need a store whose items apply changes atomically (`items.apply`: memory store); on other stores
 * the memory does not offer them, and the runner uses its fallbacks.
 *
 * Sessions are bounded by the manager's `maxItems` / `maxItemBytes`, and trimmed by whole turns:
 * a batch that begins with an input message (user, system, developer) starts a turn, and the
 * model output, tool calls and tool results written after it join that turn, so trimming never
 * leaves a tool result without its call or a reasoning item without its message.
 *
 * Items go through the `SessionManager`'s items API, never to the store directly; they are kept
 * as JSON with object keys sorted, so what comes back is `JSON.parse(JSON.stringify(item))` (key
 * order aside). Writes to a session that has ended are refused (`SESSION_ENDED`) rather than
 * landing in the user's next conversation.
 *
 * The run wrapper (`hooks.run`) creates one per run; build one yourself to pass as
 * `runner.run(agent, input, { session, context: { userId } })`. On a Runner with hooks attached,
 * the `context.userId` is what puts the run in the same user's session (without it the hooks file
 * the run under `"anonymous"`); resolve the session in the hooks' namespace:
 * `hooks.sessionManager.resolve(userId, hooks.namespace)`.
 */
export class SessionMemory implements Session {
  /** Tells the runner to pass its `RunContext` to every history call (SDK `RunContextAwareSession`). */
  readonly acceptsRunContext = true as const;
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
    // The runner detects a capability by the method's presence: on a store that cannot apply
    // changes atomically, hide the methods so it takes its own fallback paths instead of failing.
    if (sessionManager.store?.items?.apply === undefined) {
      for (const name of atomicCapabilities) Object.defineProperty(this, name, { value: undefined });
    }
  }

  /** The threadline session id. */
  async getSessionId(): Promise<string> {
    return this.#session.sessionId;
  }

  /**
   * The last `limit` items (all when omitted; none for `limit <= 0`), oldest first; `[]` once the
   * session has ended or when the store fails.
   */
  async getItems(limit?: number, _runContext?: RunContext<unknown>): Promise<AgentInputItem[]> {
    if (limit !== undefined && limit <= 0) return [];
    try {
      // The store returns exactly the JSON values written.
      return (await this.#manager.getItems(this.#session, limit)) as AgentInputItem[];
    } catch (error) {
      this.#report(error);
      return [];
    }
  }

  /**
   * Appends items, within the session's bounds: a batch that begins with an input message starts
   * a turn, any other joins the turn before it. A store failure, an ended session or a turn larger
   * than the bounds by itself (`ITEMS_TOO_LARGE`) loses the items (reported to `onError`) instead
   * of failing the run.
   */
  async addItems(items: AgentInputItem[], _runContext?: RunContext<unknown>): Promise<void> {
    try {
      if (items.length === 0) return;
      await this.#manager.addItems(this.#session, canonicalItems(items), { continuesGroup: !startsTurn(items) });
    } catch (error) {
      this.#report(error);
    }
  }

  /** Removes and returns the newest item; `undefined` when there is none or the store fails. */
  async popItem(_runContext?: RunContext<unknown>): Promise<AgentInputItem | undefined> {
    try {
      return (await this.#manager.popItem(this.#session)) as AgentInputItem | undefined;
    } catch (error) {
      this.#report(error);
      return undefined;
    }
  }

  /** Forgets every item of the session, and the operation ids applied to it (the session itself stays live). */
  async clearSession(_runContext?: RunContext<unknown>): Promise<void> {
    try {
      await this.#manager.clearItems(this.#session);
    } catch (error) {
      this.#report(error);
    }
  }

  /**
   * Applies one history transaction of the runner atomically, once per `operationId`
   * (SDK `SessionHistoryTransactionAwareSession`): `append_items` appends; `replace_suffix`
   * replaces the end of the history if it is exactly `expectedSuffix`. Repeating an operation id
   * with the same transaction does nothing; with a different one it rejects (`OPERATION_CONFLICT`),
   * as does a suffix that no longer matches (`HISTORY_MISMATCH`), invalid items (`INVALID_ITEMS`,
   * checked as strictly as the SDK's `MemorySession` does) and a store failure. A rejection
   * changes nothing and records nothing, and reaches the run: the runner keeps the transaction
   * pending and retries it with the same id.
   */
  async applyHistoryTransaction(args: HistoryTransactionArgs, _runContext?: RunContext<unknown>): Promise<void> {
    const { operationId, transaction } = checkedTransaction(args);
    const change =
      transaction.type === "append_items"
        ? { type: "append" as const, items: transaction.items, continuesGroup: !startsTurn(transaction.items) }
        : {
            type: "replace-suffix" as const,
            expectedSuffix: transaction.expectedSuffix,
            replacement: transaction.replacement,
          };
    await this.#manager.changeItems(this.#session, change, { operationId });
  }

  /**
   * Replaces the whole history with a compaction item and the suffix it keeps, in one atomic step
   * (no window where the session is empty). Rejects on failure, changing nothing.
   */
  async replaceHistoryWithCompaction(items: AgentInputItem[], _runContext?: RunContext<unknown>): Promise<void> {
    await this.#manager.changeItems(this.#session, { type: "replace-all", items: canonicalItems(items) });
  }

  /**
   * Rewrites stored function calls (SDK `SessionHistoryRewriteAwareSession`, `replace_function_call`:
   * the first call with the id becomes the replacement, later duplicates go). Applied as a
   * compare-and-swap of the history from the first changed call on, re-read and retried when
   * another writer got there first (up to 5 attempts, then `HISTORY_MISMATCH`).
   */
  async applyHistoryMutations(args: HistoryMutationArgs): Promise<void> {
    const mutations = args?.mutations ?? [];
    if (mutations.length === 0) return;
    for (let attempt = 1; ; attempt++) {
      const items = (await this.#manager.getItems(this.#session)) as AgentInputItem[];
      const change = mutatedSuffix(items, mutations);
      if (change === undefined) return;
      try {
        await this.#manager.changeItems(this.#session, {
          type: "replace-suffix",
          expectedSuffix: items.slice(change.start),
          replacement: change.replacement,
        });
        return;
      } catch (error) {
        const mismatch = SessionError.isInstance(error) && error.code === "HISTORY_MISMATCH";
        if (!mismatch || attempt >= MUTATION_ATTEMPTS) throw error;
      }
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
