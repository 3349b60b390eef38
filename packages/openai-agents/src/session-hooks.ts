import {
  type AgentInputItem,
  getCurrentTrace,
  type NonStreamRunOptions,
  RunContext,
  Runner,
  type RunResult,
  type StreamedRunResult,
  type StreamRunOptions,
  withTrace,
} from "@openai/agents";
import { assertValidId, type ResolvedSession, SessionError, type SessionManager } from "@threadline/session-core";
import { ErrorReporter, type SessionHooksErrorContext, source } from "./error-reporter.js";
import {
  agentListeners,
  type Listeners,
  listen,
  type RunnableAgent,
  reachableAgents,
  runnerListeners,
  unlisten,
} from "./listeners.js";
import { managerFrom, type SessionHooksOptions } from "./options.js";
import { latestUserText } from "./run-record.js";
import { RunRegistry, userIdIn } from "./run-registry.js";
import { SessionMemory } from "./session-memory.js";

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
  readonly #memory: boolean;
  readonly #errors: ErrorReporter;
  readonly #registry: RunRegistry;
  readonly #attached = new WeakMap<object, Listeners>();
  #runner: Runner | undefined;
  #userId: string | undefined;
  #warnedAnonymous = false;
  #warnedNoItems = false;

  constructor(options: SessionHooksOptions = {}) {
    this.sessionManager = managerFrom(options);
    this.namespace = options.namespace ?? this.sessionManager.namespace;
    assertValidId(this.namespace, "namespace");
    this.#memory = options.memory ?? true;
    this.#errors = new ErrorReporter(options.onError);
    this.#registry = new RunRegistry({
      sessionManager: this.sessionManager,
      namespace: this.namespace,
      // The manager's clock, so records agree with session times even for an injected manager.
      now: () => this.sessionManager.now(),
      onRecord: options.onRecord,
      errors: this.#errors,
      userFor: (contextUserId) => this.#userFor(contextUserId),
    });
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
      if (!this.#attached.has(agent)) this.#listen(agent, agentListeners(this.#registry, agent));
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
      unlisten(emitter, listeners);
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
    // Without a context of the app's, the run's context is `{ userId }`, which tools can read.
    const runContext = new RunContext<TContext>(context ?? ({ userId: user } as TContext));
    const tracker = this.#registry.start(runContext, user, forceNew === true);
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
    const tracker = this.#registry.find(run);
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
  flush(): Promise<void> {
    return this.#registry.flush();
  }

  // ---- internals -----------------------------------------------------------------------------

  /** The run's user: its own, else `setUserId()`'s, else `"anonymous"`. Not validated here: resolving reports a bad id. */
  #userFor(runUserId: unknown): unknown {
    return runUserId ?? this.#userId ?? this.#anonymous();
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

  readonly #report = (error: unknown, context: SessionHooksErrorContext): void => {
    this.#errors.report(error, context);
  };

  #listenTo(runner: Runner): void {
    if (!this.#attached.has(runner)) this.#listen(runner, runnerListeners(this.#registry));
  }

  /** The Runner for `run()` calls when the hooks were never attached to one. */
  #ownRunner(): Runner {
    const runner = new Runner();
    this.#runner = runner;
    return runner;
  }

  #listen(emitter: object, listeners: Listeners): void {
    this.#attached.set(emitter, listeners);
    listen(emitter, listeners);
  }
}
