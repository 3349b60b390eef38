import { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import { awaitAllCallbacks } from "@langchain/core/callbacks/promises";
import type { Serialized } from "@langchain/core/load/serializable";
import type { LLMResult } from "@langchain/core/outputs";
import {
  assertValidId,
  type RunRecord,
  type SessionManager,
  type SessionRef,
  type ToolCallRecord,
} from "@threadline/session-core";
import {
  assertOptionalFunction,
  boundedText,
  boundedValue,
  createErrorSink,
  type ErrorContext,
  type ErrorSink,
  managerFromOptions,
  PendingWork,
  type RecordHandoff,
  recordHandoff,
} from "@threadline/session-core/adapter-kit";
import { buildRunRecord, messageOf, type RunEnding, withSession } from "./build-record.js";
import { type RunLimits, runLimitsFrom, type ThreadlineCallbackHandlerOptions } from "./handler-options.js";
import { chatModelStarted, llmEnded, llmStarted, modelNameOf } from "./run-messages.js";
import { type RunSession, RunSessions } from "./run-sessions.js";
import { type RootRun, RunTracker } from "./run-tracker.js";
import { addUsage, usageOf } from "./token-usage.js";

const source = "langchain";
const noSession: Promise<RunSession | null> = Promise.resolve(null);

/** A run's start event, whatever kind of run it is. */
type RunStart = Pick<RootRun, "runId" | "name" | "input"> & {
  parentRunId?: string;
  tags?: string[];
  metadata?: Record<string, unknown>;
  defersInput?: boolean;
};

/**
 * A LangChain callback handler that puts every root run into the user's threadline session: the
 * user of the run's metadata (`user_id`, `userId`; {@link sessionConfig} sets it), else `setUserId()`'s,
 * else `"anonymous"`. A root run resolves the session at its start and renews it at its end; one
 * `RunRecord` per root run goes to `onRecord`. State is per run id (concurrent users and LangChain's
 * background callbacks never mix) and bounded (`maxRunsInFlight`, `maxToolCallsPerRun`,
 * `maxValueLength`). It never throws into the chain or makes it wait for the store: failures go
 * to `onError`, and `flush()` waits for the handler's work.
 *
 * @example
 * const handler = new ThreadlineCallbackHandler({ namespace: "support", onRecord: (record) => console.log(record) });
 * await chain.invoke(input, await sessionConfig(handler, { userId: "user-123" }));
 * await handler.flush(); // before the process exits
 */
export class ThreadlineCallbackHandler extends BaseCallbackHandler {
  override name = "ThreadlineCallbackHandler";
  /** The manager sessions are resolved with; share it with your app and {@link SessionChatMessageHistory}. */
  readonly sessionManager: SessionManager;
  /** The namespace of the sessions this handler resolves. */
  readonly namespace: string;
  readonly #records: RecordHandoff;
  readonly #errors: ErrorSink;
  readonly #limits: RunLimits;
  readonly #sessions: RunSessions;
  readonly #runs: RunTracker;
  readonly #pending = new PendingWork();

  constructor(options: ThreadlineCallbackHandlerOptions = {}) {
    super(options?.awaitHandlers === undefined ? undefined : { _awaitHandler: options.awaitHandlers });
    this.sessionManager = managerFromOptions(options, source);
    this.namespace = options.namespace ?? this.sessionManager.namespace;
    assertOptionalFunction(options.onRecord, "onRecord", "(record: RunRecord) => void | Promise<void>", source);
    this.#errors = createErrorSink(source, options.onError);
    this.#records = recordHandoff({
      manager: this.sessionManager,
      onRecord: options.onRecord,
      keepRunRecords: options.keepRunRecords,
      errors: this.#errors,
      pending: this.#pending,
      source,
    });
    this.#limits = runLimitsFrom(options);
    this.#sessions = new RunSessions({ manager: this.sessionManager, namespace: this.namespace, errors: this.#errors });
    this.#runs = new RunTracker(this.#limits.maxRunsInFlight, (run) => this.#reportDropped(run));
  }

  /**
   * The user for runs whose metadata names none, as the origin SDK's `set_user_id`. Shared by
   * every run of this handler, so prefer per-run metadata when users run concurrently.
   * `undefined` goes back to `"anonymous"`. Throws `INVALID_USER_ID` for an id the core rejects.
   */
  setUserId(userId: string | undefined): void {
    if (userId !== undefined) assertValidId(userId, "userId");
    this.#sessions.fallbackUserId = userId;
  }

  /**
   * Announces a session resolved before its run (what {@link sessionConfig} does), so the run
   * carrying its global id in `metadata.session_id` uses it instead of resolving again. Serves one run.
   */
  expectSession(session: SessionRef): void {
    this.#sessions.announce(session);
  }

  /** Root runs that started and have not ended (or been dropped) yet. */
  get openRuns(): number {
    return this.#runs.size;
  }

  /**
   * Waits until LangChain's background callbacks and all of this handler's work (session
   * resolves, renewals, `onRecord`, the manager's background cleanup) have finished. Never
   * rejects. Call it before the process exits, or in tests before reading records.
   */
  async flush(): Promise<void> {
    // Callbacks can start work and work can trigger callbacks: repeat until both are quiet.
    for (;;) {
      await awaitAllCallbacks();
      if (this.#pending.size === 0) break;
      await this.#pending.flush();
    }
    await this.sessionManager.flush();
  }

  // LangChain calls this with (chain, inputs, runId, parentRunId, tags, metadata, runType,
  // runName, extra), not in the order of its published types: the positions are named for what
  // they receive at run time (all strings or undefined where the two orders differ).
  override handleChainStart(
    ...[chain, inputs, runId, parentRunId, tags, metadata, , runName, extra]: EventArgs<"handleChainStart">
  ): void {
    const defersInput = extra?.lc_defers_inputs === true;
    this.#start({ runId, parentRunId, input: inputs, tags, metadata, name: runName ?? nameOf(chain), defersInput });
  }

  override handleChainEnd(...[outputs, runId, , , kwargs]: EventArgs<"handleChainEnd">): void {
    this.#end(runId, { output: outputs, input: kwargs?.inputs });
  }

  override handleChainError(...[error, runId, , , kwargs]: EventArgs<"handleChainError">): void {
    this.#end(runId, { error, input: kwargs?.inputs });
  }

  override handleChatModelStart(
    ...[llm, messages, runId, parentRunId, , tags, metadata, runName]: EventArgs<"handleChatModelStart">
  ): void {
    const root = this.#start({ runId, parentRunId, input: messages, tags, metadata, name: runName ?? nameOf(llm) });
    if (root !== undefined)
      this.#safely(runId, () => chatModelStarted(root, modelNameOf(llm, metadata), messages, this.#limits));
  }

  override handleLLMStart(
    ...[llm, prompts, runId, parentRunId, , tags, metadata, runName]: EventArgs<"handleLLMStart">
  ): void {
    const root = this.#start({ runId, parentRunId, input: prompts, tags, metadata, name: runName ?? nameOf(llm) });
    if (root !== undefined)
      this.#safely(runId, () => llmStarted(root, modelNameOf(llm, metadata), prompts, this.#limits));
  }

  override handleLLMEnd(output: LLMResult, runId: string): void {
    const root = this.#runs.rootOf(runId);
    const usage = root === undefined ? undefined : usageOf(output);
    if (root !== undefined && usage !== undefined) root.usage = addUsage(root.usage, usage);
    if (root !== undefined) this.#safely(runId, () => llmEnded(root, output, this.#limits));
    this.#end(runId, { output });
  }

  override handleLLMError(error: unknown, runId: string): void {
    this.#end(runId, { error });
  }

  override handleToolStart(
    ...[tool, input, runId, parentRunId, tags, metadata, runName, toolCallId]: EventArgs<"handleToolStart">
  ): void {
    const name = runName ?? nameOf(tool) ?? "tool";
    const root = this.#start({ runId, parentRunId, input, tags, metadata, name });
    if (root === undefined || root.toolCalls.size >= this.#limits.maxToolCallsPerRun) return;
    const call: ToolCallRecord = { name, input: boundedText(String(input), this.#limits.maxValueLength) };
    if (toolCallId !== undefined) call.callId = toolCallId;
    root.toolCalls.set(runId, call);
  }

  override handleToolEnd(output: unknown, runId: string): void {
    const call = this.#runs.rootOf(runId)?.toolCalls.get(runId);
    if (call !== undefined) call.output = boundedValue(output, this.#limits.maxValueLength);
    this.#end(runId, { output });
  }

  override handleToolError(error: unknown, runId: string): void {
    const call = this.#runs.rootOf(runId)?.toolCalls.get(runId);
    if (call !== undefined) call.error = boundedText(messageOf(error), this.#limits.maxValueLength);
    this.#end(runId, { error });
  }

  override handleRetrieverStart(
    ...[retriever, query, runId, parentRunId, tags, metadata, name]: EventArgs<"handleRetrieverStart">
  ): void {
    this.#start({ runId, parentRunId, input: query, tags, metadata, name: name ?? nameOf(retriever) });
  }

  override handleRetrieverEnd(documents: unknown, runId: string): void {
    this.#end(runId, { output: documents });
  }

  override handleRetrieverError(error: unknown, runId: string): void {
    this.#end(runId, { error });
  }

  /** Follows a run; returns the root run it belongs to (itself when it is a root). */
  #start(run: RunStart): RootRun | undefined {
    try {
      const parent = this.#runs.addChild(run.runId, run.parentRunId);
      if (parent !== undefined) return parent === "ignored" ? undefined : parent;
      // No known parent: the outermost run this handler sees (it may be attached below the top).
      const root = this.#rootRun(run);
      this.#runs.addRoot(root);
      return root;
    } catch (error) {
      this.#errors.report(error, { operation: "start", runId: run.runId });
      return undefined;
    }
  }

  #rootRun(run: RunStart): RootRun {
    const metadata = run.metadata ?? {};
    const root: RootRun = {
      runId: run.runId,
      name: run.name,
      userId: undefined,
      namespace: this.namespace,
      input: boundedValue(run.input, this.#limits.maxValueLength),
      defersInput: run.defersInput === true,
      tags: run.tags ?? [],
      metadata,
      startedAt: this.sessionManager.now(),
      session: noSession,
      openChildren: new Set(),
      toolCalls: new Map(),
      usage: undefined,
      models: [],
      messages: [],
      modelInputLength: undefined,
    };
    try {
      root.userId = this.#sessions.userOf(metadata);
    } catch (error) {
      // A user id the core rejects: the run goes on without a session and without a record.
      this.#errors.report(error, { operation: "resolve", runId: run.runId });
      return root;
    }
    const { namespace, session } = this.#sessions.sessionOf({ runId: run.runId, userId: root.userId, metadata });
    this.#pending.track(session);
    root.namespace = namespace;
    root.session = session;
    return root;
  }

  #end(runId: string, ending: RunEnding): void {
    const run = this.#runs.end(runId);
    if (run === undefined || run.userId === undefined) return;
    try {
      const endedAt = this.sessionManager.now();
      const { userId } = run;
      // Nobody takes the record: build none, only renew the session.
      const record = !this.#records.wanted
        ? undefined
        : buildRunRecord({ run, userId, ending, endedAt, maxValueLength: this.#limits.maxValueLength });
      this.#pending.track(this.#complete(run.session, run.runId, record));
    } catch (error) {
      this.#errors.report(error, { operation: "record", runId, userId: run.userId });
    }
  }

  /**
   * Renews the run's session, then hands the record to `onRecord` and, with `keepRunRecords`,
   * keeps it with its session. Never rejects.
   */
  async #complete(session: Promise<RunSession | null>, runId: string, record: RunRecord | undefined): Promise<void> {
    const resolved = await session;
    if (resolved !== null) await this.#sessions.renew(resolved, runId);
    if (record === undefined) return;
    if (resolved !== null) withSession(record, resolved);
    const context: ErrorContext = { operation: "record", runId: record.runId, userId: record.userId };
    if (resolved !== null) context.sessionId = resolved.sessionId;
    await this.#records.deliver(record, context);
  }

  /** Runs a part of record building; a bug there must not throw into the chain. */
  #safely(runId: string, body: () => void): void {
    try {
      body();
    } catch (error) {
      this.#errors.report(error, { operation: "record", runId });
    }
  }

  #reportDropped(run: RootRun): void {
    const error = new Error(
      `[threadline] [langchain] Run ${run.runId} had not ended when ${this.#limits.maxRunsInFlight} newer runs were in flight, so the handler stopped following it (no record). End or abort streams you stop reading, or raise maxRunsInFlight.`,
    );
    this.#errors.report(error, { operation: "evict", runId: run.runId, userId: run.userId });
  }
}

/** A LangChain event's parameters, as its handler interface declares them. */
type EventArgs<Name extends keyof BaseCallbackHandler> =
  NonNullable<BaseCallbackHandler[Name]> extends (...args: infer Args) => unknown ? Args : never;

/** The name LangSmith shows for a run without `runName`: the serialized class name. */
function nameOf(serialized: Serialized | undefined): string | undefined {
  const name = (serialized as { name?: unknown } | undefined)?.name;
  if (typeof name === "string") return name;
  const id = serialized?.id;
  return Array.isArray(id) ? id.at(-1) : undefined;
}
