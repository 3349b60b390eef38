/** What the hooks were doing when something failed. */
export type SessionHooksOperation =
  /** Resolving the user's session (a store call). The error is a `SessionError`. */
  | "resolve"
  /** Reading or writing the run's conversation memory (a store call). The error is a `SessionError`. */
  | "memory"
  /** The `onRecord` callback threw or rejected. The error is whatever it threw. */
  | "record"
  /** A lifecycle listener failed unexpectedly (a bug); the run went on without it. */
  | "listener";

/** Passed to `onError` with each failure. */
export interface SessionHooksErrorContext {
  operation: SessionHooksOperation;
  /** The run's user, when known. */
  userId?: string;
  /** The run's session, when known. */
  sessionId?: string;
}

/** Receives failures the hooks kept away from the run. Must not throw; if it does, the throw is ignored. */
export type SessionHooksErrorHandler = (error: unknown, context: SessionHooksErrorContext) => void;

export const source = "openai-agents";

/**
 * Hands failures to the app's `onError`, never to the run: a listener that throws aborts the
 * run, and a rejected promise nobody awaits crashes Node. The default handler logs the first
 * failure of each operation and stays quiet afterwards, so a store outage does not flood the log.
 */
export class ErrorReporter {
  readonly #handler: SessionHooksErrorHandler;

  constructor(handler: SessionHooksErrorHandler | undefined) {
    this.#handler = handler ?? logFirstOfEachOperation();
  }

  report(error: unknown, context: SessionHooksErrorContext): void {
    try {
      this.#handler(error, context);
    } catch {
      // The app's handler failed too; there is nowhere left to send this that cannot break the run.
    }
  }
}

function logFirstOfEachOperation(): SessionHooksErrorHandler {
  const logged = new Set<SessionHooksOperation>();
  return (error, context) => {
    if (logged.has(context.operation)) return;
    logged.add(context.operation);
    console.error(
      `[threadline] [${source}] ${context.operation} failed; the run goes on without it. Further ${context.operation} failures are not logged: pass onError to SessionHooks to handle them.`,
      error,
    );
  };
}
