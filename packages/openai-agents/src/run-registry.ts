import type { AgentInputItem, protocol, RunContext } from "@openai/agents";
import type { ResolvedSession, RunRecord, SessionManager } from "@threadline/session-core";
import {
  type ErrorContext,
  type ErrorSink,
  PendingWork,
  type RecordHandoff,
  recordHandoff,
} from "@threadline/session-core/adapter-kit";
import { callIdOf, type EventSource, type RunOutcome, RunTracker, type UsageCounters } from "./run-tracker.js";
import { userIdError } from "./user-id.js";

/** What the registry needs from an agent. */
export interface NamedAgent {
  readonly name: string;
  readonly instructions: unknown;
  /** The agent's model: a name, a `Model` (its `name`, when it has one), or absent for the runner's default. */
  readonly model?: unknown;
}

/** What the registry needs from a tool. */
export interface NamedTool {
  readonly name: string;
}

/** A tool event's details, as the SDK passes them. */
export interface ToolEventDetails {
  toolCall?: protocol.ToolCallItem;
}

export interface RunRegistryOptions {
  sessionManager: SessionManager;
  namespace: string;
  onRecord: ((record: RunRecord) => void | Promise<void>) | undefined;
  /** The `keepRunRecords` option as the app passed it (checked by the record handoff). */
  keepRunRecords: unknown;
  errors: ErrorSink;
  /** The user of a run started by `runner.run`, from its context's `userId`: that, else the hooks' default user. */
  userFor: (contextUserId: unknown) => unknown;
}

/** Marks a run the hooks ignore (its context named an invalid user), so it is reported once, not per agent. */
const IGNORED = null;

/**
 * Turns lifecycle events into per-run state and records. One {@link RunTracker} per run, in weak
 * maps keyed by the run's `RunContext` (and by the app's context object, for lookups): the state
 * of concurrent runs never meets, and a run's state is collected with its context, including runs
 * that never end (a failed run emits no `agent_end`). What else the registry holds is
 * {@link PendingWork}: promises in flight, each forgotten once it settles.
 */
export class RunRegistry {
  readonly #options: RunRegistryOptions;
  readonly #runs = new WeakMap<object, RunTracker | typeof IGNORED>();
  readonly #runsByContext = new WeakMap<object, RunTracker>();
  readonly #pending = new PendingWork();
  readonly #records: RecordHandoff;
  /** Runs started by `hooks.run()` on another copy's Runner, by the context object they were given, until their first event. */
  readonly #unbound = new WeakMap<object, RunTracker>();

  constructor(options: RunRegistryOptions) {
    this.#options = options;
    this.#records = recordHandoff({
      manager: options.sessionManager,
      onRecord: options.onRecord,
      keepRunRecords: options.keepRunRecords,
      errors: options.errors,
      pending: this.#pending,
      source: "openai-agents",
    });
  }

  /**
   * Starts tracking a run of `userId` (a valid id) and resolves its session in the background.
   * `unboundContext`: the run goes to a Runner of another copy of the SDK, which makes its own
   * `RunContext` around this context object; the run's first `agent_start` binds that one.
   */
  start(runContext: RunContext<unknown>, userId: string, forceNew: boolean, unboundContext?: unknown): RunTracker {
    const { sessionManager, namespace, errors } = this.#options;
    const tracker = new RunTracker(
      userId,
      namespace,
      sessionManager.now(),
      sessionManager.resolve(userId, namespace, { forceNew }),
      (error, runId) => errors.report(error, { operation: "resolve", userId, runId }),
    );
    this.#pending.track(tracker.ready);
    this.#runs.set(runContext, tracker);
    const context: unknown = runContext.context;
    if (typeof context === "object" && context !== null) this.#runsByContext.set(context, tracker);
    if (typeof unboundContext === "object" && unboundContext !== null) this.#unbound.set(unboundContext, tracker);
    return tracker;
  }

  /** The run of a `RunContext`, of a result (`result.runContext`), or of the app's context object. */
  find(run: object): RunTracker | undefined {
    const direct = this.#runs.get(run) ?? this.#runsByContext.get(run);
    if (direct) return direct;
    const runContext: unknown = (run as { runContext?: unknown }).runContext;
    return (typeof runContext === "object" && runContext !== null && this.#runs.get(runContext)) || undefined;
  }

  /** Waits until every tracked promise (resolutions, record deliveries) has settled. */
  flush(): Promise<void> {
    return this.#pending.flush();
  }

  /** A listener failed; it must not throw into the run, so the failure is reported. */
  listenerFailed(error: unknown): void {
    this.#options.errors.report(error, { operation: "listener" });
  }

  agentStarted(
    from: EventSource,
    runContext: RunContext<unknown>,
    agent: NamedAgent,
    turnInput?: AgentInputItem[],
  ): void {
    let tracker = this.#runs.get(runContext);
    if (tracker === IGNORED) return;
    tracker ??= this.#bind(runContext);
    if (tracker === undefined || tracker.ended) {
      const user = this.#options.userFor(userIdIn(runContext.context));
      // A bad id in the context is the app's bug, but throwing here would abort the run: report it.
      const invalid = userIdError(user, "runner.run(…, { context: { userId } })");
      if (invalid !== undefined) {
        this.#runs.set(runContext, IGNORED);
        this.#options.errors.report(invalid, { operation: "resolve" });
        return;
      }
      tracker = this.start(runContext, user as string, false);
    }
    if (tracker.isEcho(from, "agent_start", agent)) return;
    tracker.agentStarted(agent.name, agent.instructions, agent.model, turnInput);
  }

  agentEnded(runContext: RunContext<unknown>, agent: NamedAgent, output: string): void {
    const tracker = this.#runs.get(runContext);
    // Unknown run: the hooks were attached after it started. Ended: this is the other emitter's copy.
    if (!tracker || tracker.ended) return;
    this.#end(tracker, runContext, { finalAgent: agent.name, output });
  }

  /** Binds the SDK's `RunContext` of a run started on another copy's Runner to its tracker. */
  #bind(runContext: RunContext<unknown>): RunTracker | undefined {
    const context: unknown = runContext.context;
    if (typeof context !== "object" || context === null) return undefined;
    const tracker = this.#unbound.get(context);
    if (tracker === undefined) return undefined;
    this.#unbound.delete(context);
    this.#runs.set(runContext, tracker);
    tracker.sdkContext = runContext;
    return tracker;
  }

  /**
   * The run threw (`hooks.run()` saw it: the SDK emits no event for a failed run). Its record has
   * `error` and no `output`; a run that already recorded its end, or that these hooks ignore, gets none.
   */
  runFailed(runContext: RunContext<unknown>, error: unknown): void {
    const tracker = this.#runs.get(runContext);
    if (!tracker || tracker.ended) return;
    tracker.runFailed(error);
    this.#end(tracker, tracker.sdkContext ?? runContext, { error });
  }

  handedOff(from: EventSource, runContext: RunContext<unknown>, fromAgent: NamedAgent, toAgent: NamedAgent): void {
    const tracker = this.#runs.get(runContext);
    if (!tracker || tracker.isEcho(from, "agent_handoff", toAgent)) return;
    tracker.handedOff(fromAgent.name, toAgent.name);
  }

  toolStarted(
    from: EventSource,
    runContext: RunContext<unknown>,
    agent: NamedAgent,
    tool: NamedTool,
    details: ToolEventDetails | undefined,
  ): void {
    const tracker = this.#runs.get(runContext);
    const toolCall = details?.toolCall;
    // Keyed by call id: with argument redaction the two emitters get different toolCall objects.
    if (!tracker || tracker.isEcho(from, "agent_tool_start", callIdOf(toolCall) ?? tool)) return;
    tracker.toolStarted(agent.name, tool.name, toolCall);
  }

  toolEnded(
    from: EventSource,
    runContext: RunContext<unknown>,
    tool: NamedTool,
    result: string,
    details: ToolEventDetails | undefined,
  ): void {
    const tracker = this.#runs.get(runContext);
    const toolCall = details?.toolCall;
    if (!tracker || tracker.isEcho(from, "agent_tool_end", callIdOf(toolCall) ?? tool)) return;
    tracker.toolEnded(tool.name, result, toolCall);
  }

  /** Marks the run ended (one record per run) and delivers its record in the background. */
  #end(tracker: RunTracker, runContext: RunContext<unknown>, outcome: RunOutcome): void {
    tracker.ended = true;
    if (!this.#records.wanted) return;
    const { requests, inputTokens, outputTokens, totalTokens } = runContext.usage;
    const counters: UsageCounters = { requests, inputTokens, outputTokens, totalTokens };
    const endedAt = this.#options.sessionManager.now();
    this.#pending.track(this.#deliver(tracker, outcome, counters, endedAt));
  }

  async #deliver(tracker: RunTracker, outcome: RunOutcome, usage: UsageCounters, endedAt: number) {
    const session: ResolvedSession | null = await tracker.ready;
    const context: ErrorContext = {
      operation: "record",
      userId: tracker.userId,
      runId: tracker.runId,
      ...(session ? { sessionId: session.sessionId } : {}),
    };
    let record: RunRecord;
    try {
      record = tracker.toRecord(outcome, usage, endedAt);
    } catch (error) {
      this.#options.errors.report(error, context);
      return;
    }
    await this.#records.deliver(record, context);
  }
}

/** `context.userId` when the run context is an object that has one. */
export function userIdIn(context: unknown): unknown {
  return typeof context === "object" && context !== null ? (context as { userId?: unknown }).userId : undefined;
}
