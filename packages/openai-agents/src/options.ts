import type { ResolvedSession, RunRecord } from "@threadline/session-core";
import type { AdapterManagerOptions, ErrorHandler } from "@threadline/session-core/adapter-kit";

/** This adapter's name in error messages (`[threadline] [openai-agents] …`) and in `RunRecord.source`. */
export const source = "openai-agents";

/**
 * Runs the Agents run inside something of yours once its session is known: `run` starts the run,
 * and the wrapper returns what `run()` returns. Called by `hooks.run()` after the session is
 * resolved and before the first model call, around the `Runner` call (and the trace the hooks open
 * for it), so whatever the wrapper sets up (an OpenTelemetry context, an AsyncLocalStorage store, a
 * log scope) is in place for the whole run. `withSession` of `@threadline/otel` fits as it is.
 *
 * It is for context, not control: a wrapper that throws, rejects or returns before calling `run()`
 * does not stop the run (it goes on without the wrapper; the failure goes to `onError`, operation
 * `"runInSession"`), and one that fails after calling `run()` does not change the run's outcome
 * (`hooks.run()` settles as the run did; the wrapper's own error goes to `onError`). `run()` starts
 * the run once; calling it again returns the same promise. Not called for a run without a session
 * (the store failed).
 *
 * @example
 * import { withSession } from "@threadline/otel";
 * const hooks = new SessionHooks({ namespace: "support", runInSession: withSession });
 */
export type RunInSession = <T>(session: ResolvedSession, run: () => Promise<T>) => Promise<T> | T;

/**
 * Options for {@link SessionHooks}: the origin's `MonkAIRunHooks` options plus what concurrency
 * needs. Either `sessionManager`, or the options it would own (`store`, `inactivityTimeout`, `now`,
 * `idFormat`, `cleanupInterval`, and the lifecycle options `maxDuration`, `maxTurns`, `retention`,
 * `onSessionStart`, `onSessionEnd`); both together throw `INVALID_OPTION`. Each run resolves its
 * session once, so a turn of `maxTurns` is one run; the lifecycle callbacks are never awaited by a
 * run, and their failures go to `onError`.
 */
export interface SessionHooksOptions extends AdapterManagerOptions {
  /**
   * Give runs started with `hooks.run()` an Agents `Session` (conversation memory) scoped to the
   * threadline session. Needs a store with conversation items (memory, Redis). Default `true`.
   */
  memory?: boolean;
  /**
   * Receives a `RunRecord` (from `@threadline/session-core`, `source: "openai-agents"`) when a
   * run's final agent ends, and when a run started with `hooks.run()` fails (`error` set, no
   * `output`). A run paused for a tool approval emits none, and neither does a failed plain
   * `runner.run()`: the SDK emits no event for it. May be async; a throw or rejection goes to `onError` (operation `"record"`) and never
   * reaches the run. `hooks.flush()` waits for pending deliveries.
   */
  onRecord?: (record: RunRecord) => void | Promise<void>;
  /**
   * Keep each run's record with its session (`sessionManager.addRunRecord`), so the session's
   * totals (`getSessionInfo(userId).totals`) and its records (`listRunRecords(session)`) follow
   * every run without code of yours. Runs after `onRecord` is called, in the background: never on
   * the run's path, never failing it; a failure goes to `onError` (operation `"keepRecord"`), and
   * `hooks.flush()` waits for it. A run without a session (the store was down) is not kept. Needs
   * a store that keeps run records (`store.runs`: the memory, Redis and Durable Object stores);
   * any other throws `INVALID_OPTION` when the hooks are built. Default `false`.
   */
  keepRunRecords?: boolean;
  /**
   * Wraps every `hooks.run()` in something of yours once the run's session is known (an
   * OpenTelemetry context: `runInSession: withSession` from `@threadline/otel`). See
   * {@link RunInSession}; a run's own `runInSession` option replaces it. Default none.
   */
  runInSession?: RunInSession;
  /**
   * Receives every failure kept away from the run, with `{ operation, userId?, sessionId?, runId? }`:
   * `"resolve"` (the store, or an invalid `context.userId` given to `runner.run`), `"memory"` (the
   * run's conversation memory), `"record"` (your `onRecord`), `"keepRecord"` (keeping a record with its
   * session, with `keepRunRecords`), `"listener"` (a bug in the hooks),
   * and, when the hooks build the manager, `"cleanup"`, `"onSessionStart"` and `"onSessionEnd"`
   * (your lifecycle callback threw or rejected), `"runInSession"` (your run wrapper failed).
   * Default: log the first failure of each operation with `console.error`.
   */
  onError?: ErrorHandler;
}
