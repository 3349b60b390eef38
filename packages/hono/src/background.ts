import type { Context } from "hono";

/** Keeps work alive after the response, as Workers' `ExecutionContext.waitUntil` does. */
export type WaitUntil = (promise: Promise<unknown>) => void;

/**
 * The request's `waitUntil` on Workers, `undefined` elsewhere (Node, Bun, Deno), where a promise
 * simply runs on. Hono's `c.executionCtx` throws when the runtime gave none, hence the guard.
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

/** Hands work that must not delay the response to the runtime. The promise must handle its own rejection. */
export function runInBackground(c: Context, work: Promise<unknown>): void {
  waitUntilOf(c)?.(work);
}
