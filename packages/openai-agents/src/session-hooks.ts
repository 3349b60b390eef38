import {
  Agent,
  type AgentInputItem,
  getCurrentTrace,
  type NonStreamRunOptions,
  type protocol,
  RunContext,
  Runner,
  type RunResult,
  type StreamedRunResult,
  type StreamRunOptions,
  withTrace,
} from "@openai/agents";
import {
  assertValidId,
  type ResolvedSession,
  type ResolveOptions,
  SessionError,
  type SessionManager,
} from "@threadline/session-core";
import { ErrorReporter, type SessionHooksErrorContext, source } from "./error-reporter.js";
import { managerFrom, type SessionHooksOptions } from "./options.js";
import { latestUserText, type RunRecord } from "./run-record.js";
import { callIdOf, type EventSource, RunTracker, type UsageCounters } from "./run-tracker.js";
import { SessionMemory } from "./session-memory.js";

/** Whatever `Runner.run` accepts as its starting agent. */
type RunnableAgent = Parameters<Runner["run"]>[0];

/** What the run wrapper adds to the SDK's run options. */
export interface SessionRunExtras<TContext> {
  /**
   * Whose run this is. Default: `context.userId`, then `setUserId()`, then `"anonymous"`.
   * Wins over `context.userId` when both are given.
   */
  userId?: string;
  /** Your run context, passed to tools and instructions as the SDK does. Default `{ userId }`. */
  context?: TContext;
  /** End the user's live session, if any, and run in a new one. */
  forceNew?: boolean;
  /** Give this run conversation memory scoped to its session. Default: the hooks' `memory` option. */
  memory?: boolean;
  /**
   * The Runner to run on; the hooks listen to it from then on. Default: the Runner the hooks
   * were last attached to, else one the hooks create on first use.
   */
  runner?: Runner;
}

/** Options of {@link SessionHooks.run}: the SDK's run options (a `session` you pass replaces the memory) plus {@link SessionRunExtras}. */
export type SessionRunOptions<TContext, TAgent extends RunnableAgent> = Omit<
  NonStreamRunOptions<TContext, TAgent>,
  "context"
> &
  SessionRunExtras<TContext>;

/** Options of {@link SessionHooks.run} for a streamed run (`stream: true`). */
export type SessionStreamRunOptions<TContext, TAgent extends RunnableAgent> = Omit<
  StreamRunOptions<TContext, TAgent>,
  "context"
> &
  SessionRunExtras<TContext>;

type Attachable = Runner | RunnableAgent;

interface Listeners {
  agent_start: (...args: never[]) => void;
  agent_end: (...args: never[]) => void;
  agent_handoff: (...args: never[]) => void;
  agent_tool_start: (...args: never[]) => void;
  agent_tool_end: (...args: never[]) => void;
}

interface NamedAgent {
  readonly name: string;
  readonly instructions: unknown;
}

interface NamedTool {
  readonly name: string;
}

const FORCE_NEW: ResolveOptions = { forceNew: true };

/**
 * Per-user sessions for the OpenAI Agents SDK: the origin's `MonkAIRunHooks`, safe for many
 * users at once. Attach to a `Runner` (or an `Agent`); every run lands in its user's session,
 * renewed on activity and rolled over after `inactivityTimeout` seconds of silence.
 *
 * The user of a run is `run(agent, input, { context: { userId } })`, else `setUserId()`, else
 * `"anonymous"`. Per-run state is keyed by the run's `RunContext`, so concurrent runs for
 * different users on one Runner never mix. Listeners never throw into a run: failures go to
 * `onError`, and `flush()` waits for work the SDK does not await.
 *
 * `hooks.run()` resolves the session before the run, groups the run's trace under the session id
 * and gives it conversation memory that lives and dies with the session.
 *
 * @example
 * const hooks = new SessionHooks({ namespace: "support" }).attach(runner);
 * const result = await hooks.run(agent, "Hello", { userId: "user-123" });
 */
export class SessionHooks {
  /** The session manager; `hooks.sessionManager.closeSession(userId)` forces a new session, as in the origin. */
  readonly sessionManager: SessionManager;
  /** The namespace of every session these hooks resolve. */
  readonly namespace: string;
  readonly #now: () => number;
  readonly #memory: boolean;
  readonly #onRecord: ((record: RunRecord) => void | Promise<void>) | undefined;
  readonly #errors: ErrorReporter;
  readonly #runs = new WeakMap<object, RunTracker>();
  readonly #runsByContext = new WeakMap<object, RunTracker>();
  readonly #pending = new Set<Promise<unknown>>();
  readonly #attached = new WeakMap<object, Listeners>();
  #runner: Runner | undefined;
  #userId: string | undefined;
  #warnedAnonymous = false;
  #warnedNoItems = false;

  constructor(options: SessionHooksOptions = {}) {
    this.sessionManager = managerFrom(options);
    this.namespace = options.namespace ?? this.sessionManager.namespace;
    assertValidId(this.namespace, "namespace");
    this.#now = options.now ?? Date.now;
    this.#memory = options.memory ?? true;
    this.#onRecord = options.onRecord;
    this.#errors = new ErrorReporter(options.onError);
  }

  /**
   * The user for runs that name none in their context, as the origin's `set_user_id`. Shared by
   * every run of these hooks: with concurrent users, pass `context: { userId }` per run instead.
   * `undefined` clears it. Throws a `SessionError` for an invalid id.
   */
  setUserId(userId: string | undefined): void {
    if (userId !== undefined) assertValidId(userId, "userId");
    this.#userId = userId;
  }

  /**
   * Listens to a Runner's lifecycle events, or to an Agent's and those of every agent it can
   * hand off to. Attaching twice is a no-op. Returns the hooks, for chaining.
   */
  attach(target: Attachable): this {
    if (target instanceof Runner) {
      this.#runner = target;
      this.#listenTo(target);
      return this;
    }
    for (const agent of reachableAgents(target)) {
      if (!this.#attached.has(agent)) this.#listen(agent, this.#agentListeners(agent));
    }
    return this;
  }

  /** Stops listening to a Runner, or to an Agent and the agents it can hand off to. */
  detach(target: Attachable): this {
    const targets = target instanceof Runner ? [target] : reachableAgents(target);
    for (const emitter of targets) {
      const listeners = this.#attached.get(emitter);
      if (listeners === undefined) continue;
      this.#attached.delete(emitter);
      const events = emitter as unknown as EventTarget;
      for (const event of eventNames) events.off(event, listeners[event]);
    }
    if (this.#runner === target) this.#runner = undefined;
    return this;
  }

  /**
   * Runs `agent` in its user's session: resolves the session first (a store failure is reported
   * and the run goes on without a session), groups the run's trace under the session id
   * (`groupId`), and gives the run conversation memory scoped to the session unless `memory` is
   * false or you pass your own `session`. Inside a trace you opened yourself (`withTrace`), your
   * trace is left as it is.
   */
  run<TAgent extends RunnableAgent, TContext = undefined>(
    agent: TAgent,
    input: string | AgentInputItem[],
    options?: SessionRunOptions<TContext, TAgent>,
  ): Promise<RunResult<TContext, TAgent>>;
  run<TAgent extends RunnableAgent, TContext = undefined>(
    agent: TAgent,
    input: string | AgentInputItem[],
    options: SessionStreamRunOptions<TContext, TAgent>,
  ): Promise<StreamedRunResult<TContext, TAgent>>;
  async run<TAgent extends RunnableAgent, TContext = undefined>(
    agent: TAgent,
    input: string | AgentInputItem[],
    options: SessionRunOptions<TContext, TAgent> | SessionStreamRunOptions<TContext, TAgent> = {},
  ): Promise<RunResult<TContext, TAgent> | StreamedRunResult<TContext, TAgent>> {
    const { userId, context, forceNew, memory, runner: givenRunner, ...runOptions } = options;
    const runner = givenRunner ?? this.#runner ?? this.#ownRunner();
    this.#listenTo(runner);
    const user = this.#userFor(userId ?? userIdIn(context));
    const runContext = new RunContext<TContext>(context ?? ({ userId: user } as TContext));
    const tracker = this.#startRun(runContext, user, forceNew === true);
    tracker.input = typeof input === "string" ? input : latestUserText(input);
    const session = await tracker.ready;

    const withMemory = session !== null && runOptions.session === undefined && this.#memoryFor(memory, session);
    const sdkOptions = {
      ...runOptions,
      context: runContext,
      ...(withMemory
        ? { session: new SessionMemory({ sessionManager: this.sessionManager, session, onError: this.#report }) }
        : {}),
    };
    // Two calls so each matches one of the SDK's overloads.
    const execute = () =>
      sdkOptions.stream === true ? runner.run(agent, input, sdkOptions) : runner.run(agent, input, sdkOptions);
    if (session === null || runner.config.tracingDisabled || getCurrentTrace() !== null) return execute();
    return withTrace(runner.config.workflowName ?? "Agent workflow", execute, {
      groupId: session.sessionId,
      traceId: runner.config.traceId,
      metadata: { ...runner.config.traceMetadata, threadline_namespace: session.namespace },
      tracingApiKey: runOptions.tracing?.apiKey ?? runner.config.tracing?.apiKey,
    });
  }

  /**
   * The session of a run, during or after it: pass the run's `RunContext` (tools and instructions
   * get it), its result (`result.runContext` is used), or the context object you passed to
   * `run()`. Waits for resolution to finish. `undefined` for a run these hooks did not see or
   * whose session could not be resolved.
   */
  async sessionOf(
    run: RunContext<unknown> | { readonly runContext: RunContext<unknown> } | object,
  ): Promise<ResolvedSession | undefined> {
    const tracker = this.#trackerOf(run);
    if (tracker === undefined) return undefined;
    return (await tracker.ready) ?? undefined;
  }

  /** Ends the user's live session in these hooks' namespace; the next run starts a new one. Returns whether there was one. */
  closeSession(userId: string): Promise<boolean> {
    return this.sessionManager.closeSession(userId, this.namespace);
  }

  /**
   * Waits for everything the listeners started and the SDK does not await: session resolutions
   * and record deliveries. Call before exit, or before asserting on records in tests.
   */
  async flush(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled(this.#pending);
  }

  // ---- per-run state -------------------------------------------------------------------------

  /** The run's user: its own, else `setUserId()`'s, else `"anonymous"`. Not validated here: resolving reports a bad id. */
  #userFor(runUserId: unknown): unknown {
    return runUserId ?? this.#userId ?? this.#anonymous();
  }

  #startRun(runContext: RunContext<unknown>, user: unknown, forceNew: boolean): RunTracker {
    const resolving = this.#resolve(user, forceNew);
    const tracker = new RunTracker(
      typeof user === "string" ? user : String(user),
      this.namespace,
      this.#now(),
      resolving,
      (error) => this.#report(error, { operation: "resolve", userId: typeof user === "string" ? user : undefined }),
    );
    this.#track(tracker.ready);
    this.#runs.set(runContext, tracker);
    const context: unknown = runContext.context;
    if (typeof context === "object" && context !== null) this.#runsByContext.set(context, tracker);
    return tracker;
  }

  #resolve(userId: unknown, forceNew: boolean): Promise<ResolvedSession> {
    try {
      assertValidId(userId, "userId");
    } catch (error) {
      return Promise.reject(error);
    }
    return this.sessionManager.resolve(userId, this.namespace, forceNew ? FORCE_NEW : undefined);
  }

  #anonymous(): string {
    if (!this.#warnedAnonymous) {
      this.#warnedAnonymous = true;
      console.warn(
        `[threadline] [${source}] A run named no user, so it joined the shared "anonymous" session. Pass run(agent, input, { context: { userId } }), hooks.run(agent, input, { userId }) or hooks.setUserId(). (Shown once.)`,
      );
    }
    return "anonymous";
  }

  #trackerOf(run: object): RunTracker | undefined {
    const direct = this.#runs.get(run) ?? this.#runsByContext.get(run);
    if (direct !== undefined) return direct;
    const runContext: unknown = (run as { runContext?: unknown }).runContext;
    return typeof runContext === "object" && runContext !== null ? this.#runs.get(runContext) : undefined;
  }

  #memoryFor(requested: boolean | undefined, session: ResolvedSession): boolean {
    if (!(requested ?? this.#memory)) return false;
    if (this.sessionManager.store.items !== undefined) return true;
    if (!this.#warnedNoItems) {
      this.#warnedNoItems = true;
      this.#report(
        new SessionError({
          code: "UNSUPPORTED",
          source,
          message: `The ${this.sessionManager.store.name} store keeps no conversation items, so runs get no memory. Use a store with items (memory, Redis) or pass memory: false.`,
        }),
        { operation: "memory", userId: session.userId, sessionId: session.sessionId },
      );
    }
    return false;
  }

  #track(promise: Promise<unknown>): void {
    this.#pending.add(promise);
    const forget = () => this.#pending.delete(promise);
    promise.then(forget, forget);
  }

  readonly #report = (error: unknown, context: SessionHooksErrorContext): void => {
    this.#errors.report(error, context);
  };

  /** Runs a listener body; a throw would abort the user's run, so it is reported instead. */
  #safely(body: () => void): void {
    try {
      body();
    } catch (error) {
      this.#report(error, { operation: "listener" });
    }
  }

  // ---- lifecycle events ----------------------------------------------------------------------

  #agentStarted(from: EventSource, runContext: RunContext<unknown>, agent: NamedAgent, turnInput?: AgentInputItem[]) {
    let tracker = this.#runs.get(runContext);
    if (tracker === undefined || tracker.ended) {
      tracker = this.#startRun(runContext, this.#userFor(userIdIn(runContext.context)), false);
    }
    if (tracker.isEcho(from, "agent_start", agent)) return;
    tracker.agentStarted(agent.name, agent.instructions, turnInput);
  }

  #agentEnded(runContext: RunContext<unknown>, agent: NamedAgent, output: string) {
    const tracker = this.#runs.get(runContext);
    // Unknown run: the hooks were attached after it started. Ended: this is the other emitter's copy.
    if (tracker === undefined || tracker.ended) return;
    tracker.ended = true;
    if (this.#onRecord === undefined) return;
    // Read now: the usage object keeps counting if the app reuses the RunContext for another run.
    const usage = runContext.usage;
    const counters: UsageCounters = {
      requests: usage.requests,
      inputTokens: usage.inputTokens,
      outputTokens: usage.outputTokens,
      totalTokens: usage.totalTokens,
    };
    this.#track(this.#deliver(tracker, agent.name, output, counters, this.#now()));
  }

  async #deliver(tracker: RunTracker, finalAgent: string, output: string, counters: UsageCounters, endedAt: number) {
    await tracker.ready;
    try {
      await this.#onRecord?.(tracker.toRecord(finalAgent, output, counters, endedAt));
    } catch (error) {
      this.#report(error, {
        operation: "record",
        userId: tracker.userId,
        ...(tracker.session ? { sessionId: tracker.session.sessionId } : {}),
      });
    }
  }

  #handedOff(from: EventSource, runContext: RunContext<unknown>, fromAgent: NamedAgent, toAgent: NamedAgent) {
    const tracker = this.#runs.get(runContext);
    if (tracker === undefined || tracker.isEcho(from, "agent_handoff", toAgent)) return;
    tracker.handedOff(fromAgent.name, toAgent.name);
  }

  #toolStarted(
    from: EventSource,
    runContext: RunContext<unknown>,
    agent: NamedAgent,
    tool: NamedTool,
    details: { toolCall?: protocol.ToolCallItem } | undefined,
  ) {
    const tracker = this.#runs.get(runContext);
    const toolCall = details?.toolCall;
    if (tracker === undefined || tracker.isEcho(from, "agent_tool_start", callIdOf(toolCall) ?? tool)) return;
    tracker.toolStarted(agent.name, tool.name, toolCall);
  }

  #toolEnded(
    from: EventSource,
    runContext: RunContext<unknown>,
    tool: NamedTool,
    result: string,
    details: { toolCall?: protocol.ToolCallItem } | undefined,
  ) {
    const tracker = this.#runs.get(runContext);
    const toolCall = details?.toolCall;
    if (tracker === undefined || tracker.isEcho(from, "agent_tool_end", callIdOf(toolCall) ?? tool)) return;
    tracker.toolEnded(tool.name, result, toolCall);
  }

  #runnerListeners(): Listeners {
    return {
      agent_start: (runContext: RunContext<unknown>, agent: NamedAgent, turnInput?: AgentInputItem[]) =>
        this.#safely(() => this.#agentStarted("runner", runContext, agent, turnInput)),
      agent_end: (runContext: RunContext<unknown>, agent: NamedAgent, output: string) =>
        this.#safely(() => this.#agentEnded(runContext, agent, output)),
      agent_handoff: (runContext: RunContext<unknown>, fromAgent: NamedAgent, toAgent: NamedAgent) =>
        this.#safely(() => this.#handedOff("runner", runContext, fromAgent, toAgent)),
      agent_tool_start: (
        runContext: RunContext<unknown>,
        agent: NamedAgent,
        tool: NamedTool,
        details?: { toolCall?: protocol.ToolCallItem },
      ) => this.#safely(() => this.#toolStarted("runner", runContext, agent, tool, details)),
      agent_tool_end: (
        runContext: RunContext<unknown>,
        _agent: NamedAgent,
        tool: NamedTool,
        result: string,
        details?: { toolCall?: protocol.ToolCallItem },
      ) => this.#safely(() => this.#toolEnded("runner", runContext, tool, result, details)),
    };
  }

  /** The same events as emitted on one agent: the SDK leaves the agent out of the arguments. */
  #agentListeners(agent: NamedAgent): Listeners {
    return {
      agent_start: (runContext: RunContext<unknown>, _agent: NamedAgent, turnInput?: AgentInputItem[]) =>
        this.#safely(() => this.#agentStarted("agent", runContext, agent, turnInput)),
      agent_end: (runContext: RunContext<unknown>, output: string) =>
        this.#safely(() => this.#agentEnded(runContext, agent, output)),
      agent_handoff: (runContext: RunContext<unknown>, nextAgent: NamedAgent) =>
        this.#safely(() => this.#handedOff("agent", runContext, agent, nextAgent)),
      agent_tool_start: (
        runContext: RunContext<unknown>,
        tool: NamedTool,
        details?: { toolCall?: protocol.ToolCallItem },
      ) => this.#safely(() => this.#toolStarted("agent", runContext, agent, tool, details)),
      agent_tool_end: (
        runContext: RunContext<unknown>,
        tool: NamedTool,
        result: string,
        details?: { toolCall?: protocol.ToolCallItem },
      ) => this.#safely(() => this.#toolEnded("agent", runContext, tool, result, details)),
    };
  }

  #listenTo(runner: Runner): void {
    if (!this.#attached.has(runner)) this.#listen(runner, this.#runnerListeners());
  }

  /** The Runner for `run()` calls when the hooks were never attached to one. */
  #ownRunner(): Runner {
    const runner = new Runner();
    this.#runner = runner;
    return runner;
  }

  #listen(emitter: object, listeners: Listeners): void {
    this.#attached.set(emitter, listeners);
    const events = emitter as unknown as EventTarget;
    for (const event of eventNames) events.on(event, listeners[event]);
  }
}

const eventNames = ["agent_start", "agent_end", "agent_handoff", "agent_tool_start", "agent_tool_end"] as const;

/** The `on`/`off` surface shared by `Runner` and `Agent`, with the listener types erased. */
interface EventTarget {
  on(event: (typeof eventNames)[number], listener: (...args: never[]) => void): unknown;
  off(event: (typeof eventNames)[number], listener: (...args: never[]) => void): unknown;
}

/** `context.userId` when the run context is an object that has one. */
function userIdIn(context: unknown): unknown {
  return typeof context === "object" && context !== null ? (context as { userId?: unknown }).userId : undefined;
}

/** The agent and every agent reachable through handoffs, each once. */
function reachableAgents(start: RunnableAgent): RunnableAgent[] {
  const found = new Set<RunnableAgent>();
  const queue: RunnableAgent[] = [start];
  for (let agent = queue.pop(); agent !== undefined; agent = queue.pop()) {
    if (found.has(agent)) continue;
    found.add(agent);
    for (const handoff of agent.handoffs) queue.push(handoff instanceof Agent ? handoff : handoff.agent);
  }
  return [...found];
}
