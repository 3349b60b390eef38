import { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import { awaitAllCallbacks } from "@langchain/core/callbacks/promises";
import type { DocumentInterface } from "@langchain/core/documents";
import type { Serialized } from "@langchain/core/load/serializable";
import type { BaseMessage } from "@langchain/core/messages";
import type { LLMResult } from "@langchain/core/outputs";
import type { ChainValues } from "@langchain/core/utils/types";
import type { SessionError, SessionManager, SessionRef } from "@threadline/session-core";
import {
  asError,
  type HandlerErrorContext,
  managerFromOptions,
  type ThreadlineCallbackHandlerOptions,
  warnOnError,
} from "./handler-options.js";
import {
  addUsage,
  type RunKind,
  type RunRecord,
  type TokenUsage,
  type ToolCallRecord,
  tokenUsageOf,
} from "./run-record.js";

/** The user id a run carries when neither its metadata nor `setUserId()` name one (as in the origin SDK). */
export const ANONYMOUS_USER_ID = "anonymous";

// Sessions announced by sessionConfig and not yet claimed by a run. Bounded so configs that
// are built and never used cannot grow it without limit.
const MAX_EXPECTED_SESSIONS = 10_000;

/** State of one root run, from its start event to its end event. Keyed by its run id, never shared. */
interface RootRun {
  runId: string;
  kind: RunKind;
  name: string | undefined;
  userId: string;
  namespace: string;
  input: unknown;
  /** `stream()` starts a run before its input is known; the end event carries it. */
  defersInput: boolean;
  tags: string[];
  metadata: Record<string, unknown>;
  startedAt: number;
  /** The run's session once resolved; `null` when the store failed. */
  session: Promise<SessionRef | null>;
  /** Every run below this one, so their entries go when it ends. */
  descendants: string[];
  tools: Map<string, ToolCallRecord>;
  tokenUsage: TokenUsage | undefined;
}

/**
 * A LangChain callback handler that puts every root run into the user's threadline session.
 *
 * - The user comes from the run's metadata (`user_id` or `userId`), else from `setUserId()`,
 *   else `"anonymous"`. Pass it per run: `invoke(input, { metadata: { user_id } })`, or use
 *   {@link sessionConfig}, which also gives LangSmith and LangGraph the session.
 * - At the start of a root run the user's session is resolved (created or renewed); at its end
 *   it is renewed again, so a long run counts as activity. One {@link RunRecord} per root run goes
 *   to `onRecord`.
 * - State is per run id: one handler serves any number of users and concurrent runs, also with
 *   LangChain's background callbacks, which may run after `invoke()` resolves.
 * - It never throws into the chain and never makes the chain wait for the store: store work runs
 *   beside the chain, failures go to `onError`, and `flush()` waits for all of it.
 *
 * @example
 * const handler = new ThreadlineCallbackHandler({ namespace: "support", onRecord: (record) => save(record) });
 * await chain.invoke(input, await sessionConfig(handler, { userId: "user-123" }));
 * await handler.flush(); // before the process exits
 */
export class ThreadlineCallbackHandler extends BaseCallbackHandler {
  override name = "ThreadlineCallbackHandler";
  /** The manager sessions are resolved with; share it with your app and {@link SessionChatMessageHistory}. */
  readonly sessionManager: SessionManager;
  /** The namespace of the sessions this handler resolves. */
  readonly namespace: string;
  #fallbackUserId: string | undefined;
  readonly #now: () => number;
  readonly #onRecord: ((record: RunRecord) => void | Promise<void>) | undefined;
  readonly #onError: (error: SessionError | Error, context: HandlerErrorContext) => void;
  readonly #roots = new Map<string, RootRun>();
  readonly #rootOfDescendant = new Map<string, RootRun>();
  readonly #expected = new Map<string, SessionRef>();
  readonly #pending = new Set<Promise<void>>();

  constructor(options: ThreadlineCallbackHandlerOptions = {}) {
    super(options.awaitHandlers === undefined ? undefined : { _awaitHandler: options.awaitHandlers });
    this.sessionManager = managerFromOptions(options);
    this.namespace = options.namespace ?? this.sessionManager.namespace;
    this.#now = options.now ?? Date.now;
    this.#onRecord = options.onRecord;
    this.#onError = options.onError ?? warnOnError;
  }

  /**
   * The user for runs whose metadata names none, as the origin SDK's `set_user_id`. Shared by
   * every run of this handler, so prefer per-run metadata when users run concurrently.
   * `undefined` goes back to `"anonymous"`.
   */
  setUserId(userId: string | undefined): void {
    this.#fallbackUserId = userId;
  }

  /**
   * Announces a session resolved before the run (what {@link sessionConfig} does), so the run
   * carrying `metadata.session_id` uses it instead of resolving again. Each announcement serves
   * one run; a later run with the same config resolves the session itself.
   */
  expectSession(session: SessionRef): void {
    this.#expected.delete(session.sessionId);
    this.#expected.set(session.sessionId, {
      namespace: session.namespace,
      userId: session.userId,
      sessionId: session.sessionId,
    });
    if (this.#expected.size > MAX_EXPECTED_SESSIONS) {
      const oldest = this.#expected.keys().next().value;
      if (oldest !== undefined) this.#expected.delete(oldest);
    }
  }

  /** Root runs that started and have not ended yet. */
  get openRuns(): number {
    return this.#roots.size;
  }

  /**
   * Waits until LangChain's background callbacks and all of this handler's work (session
   * resolves, renewals, `onRecord`) have finished. Never rejects. Call it before the process
   * exits, or in tests before reading records.
   */
  async flush(): Promise<void> {
    // Callbacks can start work and work can trigger callbacks: repeat until both are quiet.
    for (;;) {
      await awaitAllCallbacks();
      if (this.#pending.size === 0) return;
      await Promise.all(this.#pending);
    }
  }

  // LangChain calls this with (chain, inputs, runId, parentRunId, tags, metadata, runType,
  // runName, extra), not in the order of its published types; parameters are named for what
  // they receive. All of them are strings or undefined there, so the override type-checks.
  override handleChainStart(
    chain: Serialized,
    inputs: ChainValues,
    runId: string,
    parentRunId?: string,
    tags?: string[],
    metadata?: Record<string, unknown>,
    _runType?: string,
    runName?: string,
    extra?: Record<string, unknown>,
  ): void {
    const deferred = extra?.lc_defers_inputs === true;
    this.#start("chain", runId, parentRunId, inputs, tags, metadata, runName ?? nameOf(chain), deferred);
  }

  override handleChainEnd(
    outputs: ChainValues,
    runId: string,
    _parentRunId?: string,
    _tags?: string[],
    kwargs?: { inputs?: Record<string, unknown> },
  ): void {
    this.#end(runId, { output: outputs }, kwargs?.inputs);
  }

  override handleChainError(
    error: unknown,
    runId: string,
    _parentRunId?: string,
    _tags?: string[],
    kwargs?: { inputs?: Record<string, unknown> },
  ): void {
    this.#end(runId, { error }, kwargs?.inputs);
  }

  override handleChatModelStart(
    llm: Serialized,
    messages: BaseMessage[][],
    runId: string,
    parentRunId?: string,
    _extraParams?: Record<string, unknown>,
    tags?: string[],
    metadata?: Record<string, unknown>,
    runName?: string,
  ): void {
    this.#start("llm", runId, parentRunId, messages, tags, metadata, runName ?? nameOf(llm), false);
  }

  override handleLLMStart(
    llm: Serialized,
    prompts: string[],
    runId: string,
    parentRunId?: string,
    _extraParams?: Record<string, unknown>,
    tags?: string[],
    metadata?: Record<string, unknown>,
    runName?: string,
  ): void {
    this.#start("llm", runId, parentRunId, prompts, tags, metadata, runName ?? nameOf(llm), false);
  }

  override handleLLMEnd(output: LLMResult, runId: string): void {
    const root = this.#roots.get(runId) ?? this.#rootOfDescendant.get(runId);
    if (root !== undefined) {
      const usage = tokenUsageOf(output);
      if (usage !== undefined) root.tokenUsage = addUsage(root.tokenUsage, usage);
    }
    this.#end(runId, { output });
  }

  override handleLLMError(error: unknown, runId: string): void {
    this.#end(runId, { error });
  }

  override handleToolStart(
    tool: Serialized,
    input: string,
    runId: string,
    parentRunId?: string,
    tags?: string[],
    metadata?: Record<string, unknown>,
    runName?: string,
    toolCallId?: string,
  ): void {
    const name = runName ?? nameOf(tool);
    const root = this.#start("tool", runId, parentRunId, input, tags, metadata, name, false);
    const call: ToolCallRecord = { runId, name: name ?? "tool", input };
    if (toolCallId !== undefined) call.toolCallId = toolCallId;
    root?.tools.set(runId, call);
  }

  override handleToolEnd(output: unknown, runId: string): void {
    const call = this.#toolCall(runId);
    if (call !== undefined) call.output = output;
    this.#end(runId, { output });
  }

  override handleToolError(error: unknown, runId: string): void {
    const call = this.#toolCall(runId);
    if (call !== undefined) call.error = messageOf(error);
    this.#end(runId, { error });
  }

  override handleRetrieverStart(
    retriever: Serialized,
    query: string,
    runId: string,
    parentRunId?: string,
    tags?: string[],
    metadata?: Record<string, unknown>,
    name?: string,
  ): void {
    this.#start("retriever", runId, parentRunId, query, tags, metadata, name ?? nameOf(retriever), false);
  }

  override handleRetrieverEnd(documents: DocumentInterface[], runId: string): void {
    this.#end(runId, { output: documents });
  }

  override handleRetrieverError(error: unknown, runId: string): void {
    this.#end(runId, { error });
  }

  /** Registers a run; returns the root run it belongs to (itself when it is a root). */
  #start(
    kind: RunKind,
    runId: string,
    parentRunId: string | undefined,
    input: unknown,
    tags: string[] | undefined,
    metadata: Record<string, unknown> | undefined,
    name: string | undefined,
    defersInput: boolean,
  ): RootRun | undefined {
    try {
      const parent =
        parentRunId === undefined
          ? undefined
          : (this.#roots.get(parentRunId) ?? this.#rootOfDescendant.get(parentRunId));
      if (parent !== undefined) {
        this.#rootOfDescendant.set(runId, parent);
        parent.descendants.push(runId);
        return parent;
      }
      // No known parent: the outermost run this handler sees (it may be attached below the top).
      const runMetadata = metadata ?? {};
      const userId = userIdOf(runMetadata) ?? this.#fallbackUserId ?? ANONYMOUS_USER_ID;
      const expected = this.#claimExpected(runMetadata, userId);
      const root: RootRun = {
        runId,
        kind,
        name,
        userId,
        namespace: expected?.namespace ?? this.namespace,
        input,
        defersInput,
        tags: tags ?? [],
        metadata: runMetadata,
        startedAt: this.#now(),
        session: expected === undefined ? this.#track(this.#resolve(runId, userId)) : Promise.resolve(expected),
        descendants: [],
        tools: new Map(),
        tokenUsage: undefined,
      };
      this.#roots.set(runId, root);
      return root;
    } catch (error) {
      this.#report(error, { stage: "resolve", runId, userId: ANONYMOUS_USER_ID });
      return undefined;
    }
  }

  #end(runId: string, result: { output?: unknown; error?: unknown }, deferredInput?: Record<string, unknown>): void {
    const root = this.#roots.get(runId);
    if (root === undefined) return;
    this.#roots.delete(runId);
    for (const descendant of root.descendants) this.#rootOfDescendant.delete(descendant);
    try {
      const record: RunRecord = {
        runId,
        sessionId: null,
        userId: root.userId,
        namespace: root.namespace,
        name: root.name,
        kind: root.kind,
        input: root.defersInput && deferredInput !== undefined ? deferredInput : root.input,
        toolCalls: [...root.tools.values()],
        startedAt: root.startedAt,
        endedAt: this.#now(),
        tags: root.tags,
        metadata: root.metadata,
      };
      if ("error" in result) record.error = messageOf(result.error);
      else record.output = result.output;
      if (root.tokenUsage !== undefined) record.tokenUsage = root.tokenUsage;
      void this.#track(this.#complete(root, record));
    } catch (error) {
      this.#report(error, { stage: "record", runId, userId: root.userId });
    }
  }

  async #resolve(runId: string, userId: string): Promise<SessionRef | null> {
    try {
      const session = await this.sessionManager.resolve(userId, this.namespace);
      return { namespace: session.namespace, userId: session.userId, sessionId: session.sessionId };
    } catch (error) {
      this.#report(error, { stage: "resolve", runId, userId });
      return null;
    }
  }

  async #complete(root: RootRun, record: RunRecord): Promise<void> {
    const session = await root.session;
    if (session !== null) {
      record.sessionId = session.sessionId;
      try {
        await this.sessionManager.updateActivity(session.userId, session.namespace);
      } catch (error) {
        this.#report(error, { stage: "renew", runId: root.runId, userId: root.userId });
      }
    }
    if (this.#onRecord === undefined) return;
    try {
      await this.#onRecord(record);
    } catch (error) {
      this.#report(error, { stage: "record", runId: root.runId, userId: root.userId });
    }
  }

  #claimExpected(metadata: Record<string, unknown>, userId: string): SessionRef | undefined {
    const sessionId = metadata.session_id;
    if (typeof sessionId !== "string") return undefined;
    const expected = this.#expected.get(sessionId);
    if (expected === undefined || expected.userId !== userId) return undefined;
    this.#expected.delete(sessionId);
    return expected;
  }

  #toolCall(runId: string): ToolCallRecord | undefined {
    return (this.#roots.get(runId) ?? this.#rootOfDescendant.get(runId))?.tools.get(runId);
  }

  /** Keeps `work` (which never rejects) in the pending set until it settles, for `flush()`. */
  #track<T>(work: Promise<T>): Promise<T> {
    const tracked = work.then(
      () => undefined,
      () => undefined,
    );
    this.#pending.add(tracked);
    void tracked.then(() => this.#pending.delete(tracked));
    return work;
  }

  #report(error: unknown, context: HandlerErrorContext): void {
    try {
      this.#onError(asError(error), context);
    } catch {
      // onError is the app's last resort; a throw from it has nowhere left to go.
    }
  }
}

/** The user id in run metadata: `user_id`, else `userId`; numbers are accepted as their decimal text. */
function userIdOf(metadata: Record<string, unknown>): string | undefined {
  for (const value of [metadata.user_id, metadata.userId]) {
    if (typeof value === "string") return value;
    if (typeof value === "number" && Number.isSafeInteger(value)) return String(value);
  }
  return undefined;
}

/** The name LangSmith shows for a run without `runName`: the serialized class name. */
function nameOf(serialized: Serialized | undefined): string | undefined {
  const name = (serialized as { name?: unknown } | undefined)?.name;
  if (typeof name === "string") return name;
  const id = serialized?.id;
  return Array.isArray(id) ? id.at(-1) : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
