import { SessionError } from "../errors.js";
import type { RunRecord } from "../run-record.js";
import { describeValue } from "../validation.js";

/**
 * What an adapter was doing when a failure happened. Adapters name their own operations
 * (`"resolve"`, `"renew"`, `"memory"`, `"record"`, `"listener"`, `"cleanup"`, …); the ones they
 * report are listed in each adapter's README.
 */
export interface ErrorContext {
  /** What failed, e.g. `"resolve"` (a store call) or `"record"` (your `onRecord`). */
  operation: string;
  /** The user whose work failed, when known. */
  userId?: string;
  /** The session the work belonged to, when known. */
  sessionId?: string;
  /** The framework's run or request id, when there is one (a LangChain root run id). */
  runId?: string;
  /** The records a record sink dropped (`RECORDS_DROPPED`): every one it gave up on, so none is lost silently. */
  records?: readonly RunRecord[];
}

/**
 * Receives failures that threadline kept away from your app's run or request: store failures
 * (`SessionError`, with `code` and `retryable`), a failing callback of yours (as thrown, wrapped
 * in an `Error` when it was not one). Must not throw; if it does, the throw is ignored.
 */
export type ErrorHandler = (error: Error, context: ErrorContext) => void;

/** Where an adapter sends failures it must not throw. Build it with {@link createErrorSink}. */
export interface ErrorSink {
  /** Hands `error` to the app's handler. Never throws. */
  report(error: unknown, context: ErrorContext): void;
}

/**
 * The one way threadline reports failures it keeps away from a run or request. With the app's
 * `onError`, every failure goes there. Without one, the first failure of each operation is logged
 * with `console.error` and later ones of that operation are not, so a store outage does not flood
 * the log (and the message says how to see them all).
 *
 * @param source the adapter's name for messages, e.g. `"langchain"`
 * @param onError the app's handler, or `undefined` for the default
 */
export function createErrorSink(source: string, onError: ErrorHandler | undefined): ErrorSink {
  if (onError !== undefined && typeof onError !== "function") {
    throw new SessionError({
      code: "INVALID_OPTION",
      source,
      message: `onError must be a function (error, context) => void, got ${describeValue(onError)}.`,
    });
  }
  const handler = onError ?? logFirstOfEachOperation(source);
  return {
    report(error, context) {
      try {
        handler(asError(error), context);
      } catch {
        // The app's handler failed too; there is nowhere left to send this that cannot break the host.
      }
    },
  };
}

function logFirstOfEachOperation(source: string): ErrorHandler {
  const logged = new Set<string>();
  return (error, context) => {
    if (logged.has(context.operation)) return;
    logged.add(context.operation);
    console.error(
      `[threadline] [${source}] ${context.operation} failed (threadline kept the failure from crashing your app). Further ${context.operation} failures are not logged: pass onError to handle them all.`,
      error,
    );
  };
}

/** A thrown non-`Error` (a string, an object) becomes an `Error` with it as `cause`, so handlers always get a message. */
function asError(error: unknown): Error {
  if (error instanceof Error || SessionError.isInstance(error)) return error;
  return new Error(typeof error === "string" ? error : `Non-Error thrown: ${describeValue(error)}`, { cause: error });
}
