/**
 * Background work an adapter started and did not await (a store write after a run, an
 * `onRecord` delivery), so `flush()` can wait for it. Each promise is forgotten once it settles:
 * what is held is bounded by what is in flight. Promises passed here must not reject; route
 * failures to an `ErrorSink` first.
 */
export class PendingWork {
  readonly #inFlight = new Set<Promise<unknown>>();

  /** Remembers `work` until it settles. */
  track(work: Promise<unknown>): void {
    this.#inFlight.add(work);
    void work.finally(() => this.#inFlight.delete(work));
  }

  /** How many tracked promises have not settled yet. */
  get size(): number {
    return this.#inFlight.size;
  }

  /**
   * Resolves when everything tracked so far, and anything it started meanwhile, has settled.
   * Never rejects.
   */
  async flush(): Promise<void> {
    while (this.#inFlight.size > 0) {
      await Promise.allSettled([...this.#inFlight]);
    }
  }
}
