import { assertValidId, SessionError, SessionManager, type SessionStore } from "@threadline/session-core";
import type { RunRecord } from "./run-record.js";

/** Where a failure reported to `onError` happened. */
export type HandlerErrorStage = "resolve" | "renew" | "record";

/** What `onError` learns besides the error. */
export interface HandlerErrorContext {
  stage: HandlerErrorStage;
  /** The root run the failure belongs to. */
  runId: string;
  userId: string;
}

/** Options for {@link ThreadlineCallbackHandler}. */
export interface ThreadlineCallbackHandlerOptions {
  /** Namespace of the sessions this handler resolves. Default: the manager's namespace (`"default"`). */
  namespace?: string;
  /**
   * Seconds without activity after which a user's next run starts a new session. Default 120.
   * Only when the handler builds its own manager (not with `sessionManager`).
   */
  inactivityTimeout?: number;
  /** The manager to resolve sessions with; share one between the handler, your app and the chat history. */
  sessionManager?: SessionManager;
  /** Where sessions live when the handler builds its own manager. Default: a memory store. */
  store?: SessionStore;
  /**
   * The clock in ms since epoch, for the handler's own manager and for record timestamps.
   * Default `Date.now`. With `sessionManager`, it only stamps records; give the manager the same clock.
   */
  now?: () => number;
  /**
   * Receives one record per root run, after the run ended and its session was renewed. May be
   * async; `flush()` waits for it. A throw or rejection goes to `onError`, never into the chain.
   */
  onRecord?: (record: RunRecord) => void | Promise<void>;
  /**
   * Receives every failure of the handler's own work. Store failures arrive as `SessionError`
   * (`STORE_UNAVAILABLE`, `STORE_ERROR`, `INVALID_USER_ID`…); a failure of your `onRecord` arrives
   * as it was thrown. Default: `console.warn` of the message. Must not throw.
   */
  onError?: (error: SessionError | Error, context: HandlerErrorContext) => void;
  /**
   * Whether LangChain awaits this handler's callbacks. Default: LangChain's default (background
   * unless `LANGCHAIN_CALLBACKS_BACKGROUND=false`). The handler's store work never blocks the
   * chain either way; `flush()` waits for it.
   */
  awaitHandlers?: boolean;
}

/** The manager the handler uses: the injected one, or one built from `store`/`inactivityTimeout`/`now`. */
export function managerFromOptions(options: ThreadlineCallbackHandlerOptions): SessionManager {
  if (options.sessionManager === undefined) {
    return new SessionManager({
      store: options.store,
      inactivityTimeout: options.inactivityTimeout,
      namespace: options.namespace,
      now: options.now,
    });
  }
  if (options.store !== undefined || options.inactivityTimeout !== undefined) {
    throw new SessionError({
      code: "INVALID_OPTION",
      source: "langchain",
      message:
        "Pass either sessionManager or store/inactivityTimeout, not both: the manager already has its store and timeout.",
    });
  }
  if (options.namespace !== undefined) assertValidId(options.namespace, "namespace");
  return options.sessionManager;
}

/** The default `onError`: say what failed, never throw. */
export function warnOnError(error: SessionError | Error, context: HandlerErrorContext): void {
  console.warn(
    `${error.message} (${stageDescriptions[context.stage]} of run ${context.runId}; the run itself was not affected)`,
  );
}

const stageDescriptions: Record<HandlerErrorStage, string> = {
  resolve: "while resolving the session",
  renew: "while renewing the session",
  record: "in onRecord, with the record",
};

/** Errors that are not `Error`s (a thrown string) become one, so `onError` always gets a message. */
export function asError(error: unknown): SessionError | Error {
  if (SessionError.isInstance(error) || error instanceof Error) return error;
  return new Error(String(error));
}
