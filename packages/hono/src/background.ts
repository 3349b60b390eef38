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
 * The manager's background work (a cleanup of expired sessions its `resolve` started), watched
 * from just after `resolve` was called until the middleware finishes. Workers stop a request's
 * promises once its response is sent, so unfinished work goes to `waitUntil`; work that settled
 * in the meantime (the usual case: nothing was started) costs one resolved promise.
 */
export class BackgroundWork {
  #settled = false;
  readonly #done: Promise<void>;

  constructor(manager: SessionManager) {
    this.#done = manager.flush();
    void this.#done.then(() => {
      this.#settled = true;
    });
  }

  /** Hands the work to the request's `waitUntil` if it has not finished yet. */
  handOff(c: Context): void {
    if (this.#settled) return;
    waitUntilOf(c)?.(this.#done);
  }
}
