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
   * Resolves when everything tracked so far has settled, and what that work tracked in turn (a
   * record delivered after a store write), for a few rounds: under constant load new work keeps
   * arriving, and a flush must still end. Never rejects.
   */
  async flush(): Promise<void> {
    for (let round = 0; round < MAX_FLUSH_ROUNDS && this.#inFlight.size > 0; round++) {
      await Promise.allSettled([...this.#inFlight]);
    }
  }
}

/** Rounds of follow-up work a flush waits for; a chain longer than this is a bug to report, not to wait out. */
const MAX_FLUSH_ROUNDS = 4;
