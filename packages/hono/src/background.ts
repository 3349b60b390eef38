import type { SessionManager } from "@threadline/session-core";
import type { Context } from "hono";

/** Keeps work alive after the response, as Workers' `ExecutionContext.waitUntil` does. */
export type WaitUntil = (promise: Promise<unknown>) => void;

/**
 * The request's `waitUntil` on Workers, `undefined` elsewhere (Node, Bun, Deno), where a promise
 * simply runs on. Hono's `c.executionCtx` throws when the runtime gave none, hence the guard; the
 * throw costs microseconds on Node, so callers probe only when they have work to hand over.
 */
export function waitUntilOf(c: Context): WaitUntil | undefined {
  let executionContext: { waitUntil(promise: Promise<unknown>): void };
  try {
    executionContext = c.executionCtx;
  } catch {
    return undefined;
  }
  return (promise) => executionContext.waitUntil(promise);
}

/**
 * Hands the manager's unfinished background work (a cleanup of expired sessions that a `resolve`
 * started, `onSessionStart`/`onSessionEnd` calls the request caused) to the request's `waitUntil`:
 * Workers stop a request's promises once its response is sent. Requests with nothing pending
 * (nearly all) cost one property read.
 */
export function handOffBackgroundWork(manager: SessionManager, c: Context): void {
  if (manager.pendingWork === 0) return;
  waitUntilOf(c)?.(manager.flush());
}
