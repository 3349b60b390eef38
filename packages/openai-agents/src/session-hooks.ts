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
import { type ResolvedSession, SessionError, type SessionManager } from "@threadline/session-core";
import {
  anonymousFallback,
  assertOptionalFunction,
  createErrorSink,
  describeValue,
  type ErrorHandler,
  type ErrorSink,
  globalSessionId,
  managerFromOptions,
} from "@threadline/session-core/adapter-kit";
import {
  agentListeners,
  isAgentLike,
  isRunnerLike,
  type Listeners,
  listen,
  type RunnableAgent,
  reachableAgents,
  runnerListeners,
  unlisten,
} from "./listeners.js";
import { type RunInSession, type SessionHooksOptions, source } from "./options.js";
import { RunRegistry, userIdIn } from "./run-registry.js";
import { bounded, latestUserText, type RunTracker } from "./run-tracker.js";
import { SessionMemory } from "./session-memory.js";
import { userIdError } from "./user-id.js";

/** What the run wrapper adds to the SDK's run options. */
export interface SessionRunExtras<TContext> {
  /**
   * Whose run this is. Default: `context.userId`, then `setUserId()`, then `"anonymous"`.
   * Wins over `context.userId` when both are given. An invalid id (here or in `context.userId`)
   * rejects the call with `INVALID_USER_ID` before the run starts.
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
  /**
   * Runs this run inside something of yours once its session is known; replaces the hooks'
   * `runInSession` for this run. See {@link RunInSession}.
   */
  runInSession?: RunInSession;
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
 * `attach({})` would fail deep in the SDK (`agent.handoffs is not iterable`), `attach(undefined)`
 * silently. Checked by shape, so a Runner or Agent from another copy of @openai/agents is accepted.
 */
function assertAttachable(target: unknown, method: "attach" | "detach"): asserts target is Attachable {
  if (isRunnerLike(target) || isAgentLike(target)) return;
  throw new SessionError({
    code: "INVALID_OPTION",
    source,
    message: `hooks.${method}() takes a Runner or an Agent from @openai/agents, got ${describeValue(target)}. Pass the Runner you call run() on (hooks.${method}(runner)) or your starting Agent.`,
  });
}

/** `hooks.run(agent, input, null)` would fail with a bare `TypeError` from destructuring. */
function assertRunOptions(options: unknown): void {
  if (typeof options === "object" && options !== null && !Array.isArray(options)) {
    const { runner, runInSession } = options as { runner?: unknown; runInSession?: unknown };
    assertOptionalFunction(
      runInSession,
      "hooks.run(agent, input, { runInSession })",
      "(session, run) => run()",
      source,
    );
    if (runner === undefined || isRunnerLike(runner)) return;
    throw new SessionError({
      code: "INVALID_OPTION",
      source,
      message: `hooks.run(agent, input, { runner }): runner must be a Runner from @openai/agents, got ${describeValue(runner)}. Leave it out to run on the Runner the hooks are attached to.`,
    });
  }
  throw new SessionError({
    code: "INVALID_OPTION",
    source,
    message: `hooks.run(agent, input, options): options must be an object, got ${describeValue(options)}. Write hooks.run(agent, input, { userId }), or leave options out.`,
  });
}

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
 * `hooks.run()` resolves the session before the run, groups the run's trace under the session's
 * `globalSessionId` and gives it conversation memory that lives and dies with the session.
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
  readonly #runInSession: RunInSession | undefined;
  readonly #errors: ErrorSink;
  readonly #registry: RunRegistry;
  readonly #attached = new WeakMap<object, Listeners>();
  #runner: Runner | undefined;
  #userId: string | undefined;
  /** The store answered `UNSUPPORTED` to a memory call: it keeps no items, so runs get no memory. */
  #storeKeepsNoItems = false;

  constructor(options: SessionHooksOptions = {}) {
    this.sessionManager = managerFromOptions(options, source);
    this.namespace = options.namespace ?? this.sessionManager.namespace;
    assertOptionalFunction(options.onRecord, "onRecord", "(record: RunRecord) => void | Promise<void>", source);
    if (options.memory !== undefined && typeof options.memory !== "boolean") {
      throw new SessionError({
        code: "INVALID_OPTION",
        source,
        message: "memory must be true or false: whether hooks.run() gives runs conversation memory.",
      });
    }
    this.#memory = options.memory ?? true;
    assertOptionalFunction(options.runInSession, "runInSession", "(session, run) => run()", source);
    this.#runInSession = options.runInSession;
    this.#errors = createErrorSink(source, options.onError);
    this.#registry = new RunRegistry({
      sessionManager: this.sessionManager,
      namespace: this.namespace,
      onRecord: options.onRecord,
      keepRunRecords: options.keepRunRecords,
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
    const invalid = userId === undefined ? undefined : userIdError(userId, "hooks.setUserId(userId)");
    if (invalid !== undefined) throw invalid;
    this.#userId = userId;
  }

  /**
   * Listens to a Runner's lifecycle events, or to an Agent's and those of every agent it can
   * hand off to. Attaching twice is a no-op. Returns the hooks, for chaining. Anything else
   * throws `INVALID_OPTION`.
   */
  attach(target: Attachable): this {
    assertAttachable(target, "attach");
    if (isRunnerLike(target)) {
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
    assertAttachable(target, "detach");
    const targets = isRunnerLike(target) ? [target] : reachableAgents(target);
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
   * and the run goes on without a session), groups the run's trace under the session
   * (`groupId: globalSessionId(session)`, unique per namespace, user and session), and gives the
   * run conversation memory scoped to the session unless `memory` is false or you pass your own
   * `session`. Inside a trace you opened yourself (`withTrace`), your trace is left as it is.
   * With `runInSession` (the run's, else the hooks'), the Runner call runs inside your wrapper,
   * given the resolved session (`withSession` of `@threadline/otel` puts it in the OTel context).
   * An invalid user id rejects with `SessionError` `INVALID_USER_ID`, options that are not an object
   * with `INVALID_OPTION`, both before the run starts. A run that fails emits a record with `error`
   * and rejects with the run's own error.
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
    assertRunOptions(options);
    const { userId, context, forceNew, memory, runner: givenRunner, runInSession, ...runOptions } = options;
    // The caller named this user: a bad id is their bug, so it fails here rather than run anonymously.
    const given = userId !== undefined ? userId : userIdIn(context);
    const where =
      userId !== undefined ? "hooks.run(agent, input, { userId })" : "hooks.run(…, { context: { userId } })";
    const invalid = given === undefined ? undefined : userIdError(given, where);
    if (invalid !== undefined) throw invalid;
    const user = this.#userFor(given) as string;
    const runner = givenRunner ?? this.#runner ?? this.#ownRunner();
    this.#listenTo(runner);
    // Without a context of the app's, the run's context is `{ userId }`, which tools can read.
    const appContext = context ?? ({ userId: user } as TContext);
    const runContext = new RunContext<TContext>(appContext);
    // A Runner of another copy of the SDK would wrap this RunContext in its own (it checks with
    // `instanceof`), and tools would get it as their context: give it the app's context instead,
    // and let the run's first event bind the SDK's RunContext to this run.
    const sameCopy = runner instanceof Runner;
    const tracker = this.#registry.start(runContext, user, forceNew === true, sameCopy ? undefined : appContext);
    tracker.input = bounded(typeof input === "string" ? input : latestUserText(input));
    const session = await tracker.ready;

    const withMemory = session !== null && runOptions.session === undefined && (memory ?? this.#memory);
    const sdkOptions = {
      ...runOptions,
      context: sameCopy ? runContext : appContext,
      ...(withMemory && !this.#storeKeepsNoItems ? { session: this.#memoryOf(session, tracker) } : {}),
    };
    // Two calls so each matches one of the SDK's overloads.
    const execute = () =>
      sdkOptions.stream === true ? runner.run(agent, input, sdkOptions) : runner.run(agent, input, sdkOptions);
    const traced = () =>
      session === null || runner.config.tracingDisabled || getCurrentTrace() !== null
        ? execute()
        : withTrace(runner.config.workflowName ?? "Agent workflow", execute, {
            groupId: globalSessionId(session),
            traceId: runner.config.traceId,
            metadata: { ...runner.config.traceMetadata, threadline_namespace: session.namespace },
            tracingApiKey: runOptions.tracing?.apiKey ?? runner.config.tracing?.apiKey,
          });
    // The SDK emits no event for a failed run: the wrapper sees the failure, records it, and hands
    // the caller the run's own error.
    let result: RunResult<TContext, TAgent> | StreamedRunResult<TContext, TAgent>;
    try {
      result = await this.#inSession(runInSession ?? this.#runInSession, session, tracker.runId, traced);
    } catch (error) {
      this.#runFailed(runContext, error);
      throw error;
    }
    // A streamed run fails later, through `completed`; the SDK already marks that promise handled.
    const { completed } = result as Partial<StreamedRunResult<TContext, TAgent>>;
    if (completed instanceof Promise) {
      void completed.catch((error: unknown) => this.#runFailed(runContext, error));
    }
    return result;
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
   * Waits for everything the listeners started and the SDK does not await (session resolutions,
   * record deliveries) and for the manager's background work (cleanup, `onSessionStart` and
   * `onSessionEnd` calls). Call before exit, or before asserting on records in tests. Never rejects.
   */
  async flush(): Promise<void> {
    await this.#registry.flush();
    await this.sessionManager.flush();
  }

  // ---- internals -----------------------------------------------------------------------------

  /** The run's user: its own, else `setUserId()`'s, else `"anonymous"`. The caller validates the run's own. */
  #userFor(runUserId: unknown): unknown {
    if (runUserId !== undefined) return runUserId;
    return this.#userId ?? this.#anonymous();
  }

  readonly #anonymous = anonymousFallback(
    source,
    "run(agent, input, { context: { userId } }), hooks.run(agent, input, { userId }) or hooks.setUserId()",
  );

  /**
   * The run's memory. Whether the store keeps items is learned from its first `UNSUPPORTED`
   * answer (the hooks never look into the store): reported once, then runs go without memory.
   */
  #memoryOf(session: ResolvedSession, tracker: RunTracker): SessionMemory {
    const onError: ErrorHandler = (error, context) => {
      if (SessionError.isInstance(error) && error.code === "UNSUPPORTED") {
        if (this.#storeKeepsNoItems) return;
        this.#storeKeepsNoItems = true;
      }
      this.#errors.report(error, { ...context, runId: tracker.runId });
    };
    return new SessionMemory({ sessionManager: this.sessionManager, session, onError });
  }

  /**
   * Runs `execute` through the app's `runInSession` wrapper. The wrapper sets up context, it never
   * decides the outcome: the run's own result or error is what the caller gets, and every failure
   * of the wrapper goes to `onError`. If it does not start the run, the run starts without it.
   */
  async #inSession<R>(
    wrapper: RunInSession | undefined,
    session: ResolvedSession | null,
    runId: string,
    execute: () => Promise<R>,
  ): Promise<R> {
    if (wrapper === undefined || session === null) return execute();
    let started: Promise<R> | undefined;
    const run = (): Promise<R> => {
      if (started === undefined) {
        started = execute();
        // Awaited below; marked handled now so a wrapper that drops it cannot make it an unhandledRejection.
        started.catch(() => {});
      }
      return started;
    };
    const report = (error: unknown) =>
      this.#errors.report(error, {
        operation: "runInSession",
        userId: session.userId,
        sessionId: session.sessionId,
        runId,
      });
    let failure: { error: unknown } | undefined;
    try {
      await wrapper(session, run);
    } catch (error) {
      failure = { error };
    }
    if (started === undefined) {
      report(
        failure?.error ??
          new SessionError({
            code: "INVALID_OPTION",
            source,
            message:
              "runInSession returned without calling run(), so the run went on without it. Write (session, run) => withSession(session, run).",
          }),
      );
      return run();
    }
    if (failure === undefined) return started;
    try {
      const result = await started;
      report(failure.error);
      return result;
    } catch (runError) {
      // A wrapper that passes the run's error on did not fail itself.
      if (runError !== failure.error) report(failure.error);
      throw runError;
    }
  }

  /** Records a failed run; a bug here must neither replace the run's error nor reject unhandled. */
  #runFailed(runContext: RunContext<unknown>, error: unknown): void {
    try {
      this.#registry.runFailed(runContext, error);
    } catch (bug) {
      this.#registry.listenerFailed(bug);
    }
  }

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
