/**
 * Timers that never keep a process alive: `unref`'d where the runtime has it (Node, Bun); Deno and
 * Workers return numbers and need nothing. Times in ms.
 */
export type Timer = ReturnType<typeof setTimeout>;

/** Calls `callback` after `ms`, without holding the process open for it. */
export function backgroundTimeout(callback: () => void, ms: number): Timer {
  const timer = setTimeout(callback, ms);
  const handle: unknown = timer;
  if (typeof handle === "object" && handle !== null && "unref" in handle && typeof handle.unref === "function") {
    handle.unref();
  }
  return timer;
}

/** A wait that `cancel()` ends early (shutdown must not sit out a backoff delay). */
export interface CancellableWait {
  readonly done: Promise<void>;
  cancel(): void;
}

/**
 * Waits `ms`; resolves early on `cancel()`. Never rejects. With `keepAlive` false the wait does not
 * hold the process open (nobody awaits it); true when a flush is waiting on it.
 */
export function cancellableWait(ms: number, keepAlive: boolean): CancellableWait {
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  if (ms <= 0) return { done: Promise.resolve(), cancel() {} };
  const timer = keepAlive ? setTimeout(finish, ms) : backgroundTimeout(finish, ms);
  return {
    done,
    cancel() {
      clearTimeout(timer);
      finish();
    },
  };
}
