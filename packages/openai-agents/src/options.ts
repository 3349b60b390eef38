import { SessionError, SessionManager, type SessionStore } from "@threadline/session-core";
import { type SessionHooksErrorHandler, source } from "./error-reporter.js";
import type { RunRecord } from "./run-record.js";

/** Options for {@link SessionHooks}, as the origin's `MonkAIRunHooks` plus what concurrency needs. */
export interface SessionHooksOptions {
  /** Namespace of every run's session. Default: the injected manager's namespace, else `"default"`. */
  namespace?: string;
  /** Seconds without activity after which a user's next run starts a new session. Default 120. Not with `sessionManager`. */
  inactivityTimeout?: number;
  /** Use this manager (and its store, timeout and clock). Exposed again as `hooks.sessionManager`. */
  sessionManager?: SessionManager;
  /** Where sessions (and the run wrapper's memory) live. Default: a memory store. Not with `sessionManager`. */
  store?: SessionStore;
  /** The clock (ms since epoch) for new sessions and record timestamps. Default `Date.now`. Not with `sessionManager`: its clock is used. */
  now?: () => number;
  /**
   * Give runs started with `hooks.run()` an Agents `Session` (conversation memory) scoped to the
   * threadline session. Needs a store with conversation items (memory; Redis). Default `true`.
   */
  memory?: boolean;
  /**
   * Receives a {@link RunRecord} when a run's final agent ends. Runs with no final agent (an
   * error, an approval interruption) emit none. May be async; a throw or rejection goes to
   * `onError` and never reaches the run. Call `hooks.flush()` to wait for pending deliveries.
   */
  onRecord?: (record: RunRecord) => void | Promise<void>;
  /**
   * Receives every failure kept away from the run: store errors (`SessionError`), a failing
   * `onRecord`. Default: log the first failure of each kind and keep running.
   */
  onError?: SessionHooksErrorHandler;
}

/** The manager the hooks use: the injected one, or a new one built from the origin's options. */
export function managerFrom(options: SessionHooksOptions): SessionManager {
  const manager = options.sessionManager;
  if (manager === undefined) {
    return new SessionManager({
      inactivityTimeout: options.inactivityTimeout,
      namespace: options.namespace,
      store: options.store,
      now: options.now,
    });
  }
  // Duck-typed rather than instanceof: two copies of session-core in one app are still one API.
  if (typeof (manager as { resolve?: unknown }).resolve !== "function") {
    throw new SessionError({
      code: "INVALID_OPTION",
      source,
      message: "sessionManager must be a SessionManager from @threadline/session-core.",
    });
  }
  for (const name of ["inactivityTimeout", "store"] as const) {
    if (options[name] !== undefined) {
      throw new SessionError({
        code: "INVALID_OPTION",
        source,
        message: `Pass either sessionManager or ${name}, not both: the manager already has its own ${name === "store" ? "store" : "timeout"}. Set it when you create the SessionManager.`,
      });
    }
  }
  return manager;
}
