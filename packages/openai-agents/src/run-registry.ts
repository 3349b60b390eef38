import type { AgentInputItem, protocol, RunContext } from "@openai/agents";
import {
  assertValidId,
  type ResolvedSession,
  type ResolveOptions,
  type SessionManager,
} from "@threadline/session-core";
import type { ErrorReporter } from "./error-reporter.js";
import type { RunRecord } from "./run-record.js";
import { callIdOf, type EventSource, RunTracker, type UsageCounters } from "./run-tracker.js";

/** What the registry needs from an agent. */
export interface NamedAgent {
  readonly name: string;
  readonly instructions: unknown;
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
  now: () => number;
  onRecord: ((record: RunRecord) => void | Promise<void>) | undefined;
  errors: ErrorReporter;
  /** The user of a run from its context's `userId`: that, else the hooks' default user. */
  userFor: (contextUserId: unknown) => unknown;
}

const FORCE_NEW: ResolveOptions = { forceNew: true };

/**
 * Turns lifecycle events into per-run state and records. One {@link RunTracker} per run, keyed
 * by the run's `RunContext` (and by the app's context object, for lookups), in weak maps: the
 * state of concurrent runs never meets, and a finished run's state goes with its context.
 * Every promise started here is tracked so `flush()` can wait for it.
 */
export class RunRegistry {
  readonly #options: RunRegistryOptions;
  readonly #runs = new WeakMap<object, RunTracker>();
  readonly #runsByContext = new WeakMap<object, RunTracker>();
  readonly #pending = new Set<Promise<unknown>>();

  constructor(options: RunRegistryOptions) {
    this.#options = options;
  }

  /** Starts tracking a run of `user` and resolves its session (in the background). */
  start(runContext: RunContext<unknown>, user: unknown, forceNew: boolean): RunTracker {
    const { namespace, now, errors } = this.#options;
    const userId = typeof user === "string" ? user : undefined;
    const tracker = new RunTracker(userId ?? String(user), namespace, now(), this.#resolve(user, forceNew), (error) =>
      errors.report(error, { operation: "resolve", ...(userId === undefined ? {} : { userId }) }),
    );
    this.#track(tracker.ready);
    this.#runs.set(runContext, tracker);
    const context: unknown = runContext.context;
    if (typeof context === "object" && context !== null) this.#runsByContext.set(context, tracker);
    return tracker;
  }

  /** The run of a `RunContext`, of a result (`result.runContext`), or of the app's context object. */
  find(run: object): RunTracker | undefined {
    const direct = this.#runs.get(run) ?? this.#runsByContext.get(run);
    if (direct !== undefined) return direct;
    const runContext: unknown = (run as { runContext?: unknown }).runContext;
    return typeof runContext === "object" && runContext !== null ? this.#runs.get(runContext) : undefined;
  }

  /** Waits until every tracked promise (resolutions, record deliveries) has settled. */
  async flush(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled(this.#pending);
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
    if (tracker === undefined || tracker.ended) {
      const contextUserId: unknown = userIdIn(runContext.context);
      tracker = this.start(runContext, this.#options.userFor(contextUserId), false);
    }
    if (tracker.isEcho(from, "agent_start", agent)) return;
    tracker.agentStarted(agent.name, agent.instructions, turnInput);
  }

  agentEnded(runContext: RunContext<unknown>, agent: NamedAgent, output: string): void {
    const tracker = this.#runs.get(runContext);
    // Unknown run: the hooks were attached after it started. Ended: this is the other emitter's copy.
    if (tracker === undefined || tracker.ended) return;
    tracker.ended = true;
    if (this.#options.onRecord === undefined) return;
    // Read now: the usage object keeps counting if the app reuses the RunContext for another run.
    const usage = runContext.usage;
    const counters: UsageCounters = {
      requests: usage.requests,
      inputTokens: usage.inputTokens,
      outputTokens: usage.outputTokens,
      totalTokens: usage.totalTokens,
    };
    this.#track(this.#deliver(tracker, agent.name, output, counters, this.#options.now()));
  }

  handedOff(from: EventSource, runContext: RunContext<unknown>, fromAgent: NamedAgent, toAgent: NamedAgent): void {
    const tracker = this.#runs.get(runContext);
    if (tracker === undefined || tracker.isEcho(from, "agent_handoff", toAgent)) return;
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
    if (tracker === undefined || tracker.isEcho(from, "agent_tool_start", callIdOf(toolCall) ?? tool)) return;
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
    if (tracker === undefined || tracker.isEcho(from, "agent_tool_end", callIdOf(toolCall) ?? tool)) return;
    tracker.toolEnded(tool.name, result, toolCall);
  }

  #resolve(user: unknown, forceNew: boolean): Promise<ResolvedSession> {
    try {
      assertValidId(user, "userId");
    } catch (error) {
      return Promise.reject(error);
    }
    const { sessionManager, namespace } = this.#options;
    return sessionManager.resolve(user, namespace, forceNew ? FORCE_NEW : undefined);
  }

  async #deliver(tracker: RunTracker, finalAgent: string, output: string, counters: UsageCounters, endedAt: number) {
    await tracker.ready;
    try {
      await this.#options.onRecord?.(tracker.toRecord(finalAgent, output, counters, endedAt));
    } catch (error) {
      this.#options.errors.report(error, {
        operation: "record",
        userId: tracker.userId,
        ...(tracker.session ? { sessionId: tracker.session.sessionId } : {}),
      });
    }
  }

  #track(promise: Promise<unknown>): void {
    this.#pending.add(promise);
    const forget = () => this.#pending.delete(promise);
    promise.then(forget, forget);
  }
}

/** `context.userId` when the run context is an object that has one. */
export function userIdIn(context: unknown): unknown {
  return typeof context === "object" && context !== null ? (context as { userId?: unknown }).userId : undefined;
}
