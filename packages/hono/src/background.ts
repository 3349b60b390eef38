import type { Context } from "hono";

/**
 * Hands work that must not delay the response to the runtime. On Workers that is
 * `executionCtx.waitUntil`, which keeps the isolate alive until the work is done; elsewhere
 * (Node, Bun, Deno) the promise simply runs on. Hono's `c.executionCtx` throws when the runtime
 * gave none, hence the guard. The promise must already handle its own rejection.
 */
export function runInBackground(c: Context, work: Promise<unknown>): void {
  let executionContext: { waitUntil(promise: Promise<unknown>): void } | undefined;
  try {
    executionContext = c.executionCtx;
  } catch {
    return; // not on Workers: nothing keeps the work alive, nothing needs to
  }
  executionContext.waitUntil(work);
}
