import type { Entry, ExpiryQueue } from "./entry.js";

/**
 * Entries with the same timeout sit in one doubly linked list in order of last activity, so a
 * renewal is an O(1) move to the tail, the oldest entry is at a head, and a sweep walks from the
 * heads only over what expired.
 */
export class ExpiryQueues {
  readonly #queues = new Map<number, ExpiryQueue>();

  /** Moves `entry` to the tail of its timeout's queue: it is now the most recently active. */
  moveToTail(entry: Entry, timeoutMs: number): void {
    // Most renewals keep the timeout, so the entry's own queue saves a lookup.
    let queue = entry.queue?.timeoutMs === timeoutMs ? entry.queue : this.#queues.get(timeoutMs);
    if (queue === undefined) {
      queue = { timeoutMs, head: undefined, tail: undefined };
      this.#queues.set(timeoutMs, queue);
    }
    if (queue.tail === entry) return;
    this.unlink(entry);
    entry.queue = queue;
    entry.previous = queue.tail;
    if (queue.tail) queue.tail.next = entry;
    else queue.head = entry;
    queue.tail = entry;
  }

  unlink(entry: Entry): void {
    const queue = entry.queue;
    if (queue === undefined) return;
    if (entry.previous) entry.previous.next = entry.next;
    else queue.head = entry.next;
    if (entry.next) entry.next.previous = entry.previous;
    else queue.tail = entry.previous;
    entry.previous = undefined;
    entry.next = undefined;
    entry.queue = undefined;
  }

  /** The least recently active entry of all queues, or `undefined`. */
  leastRecentlyActive(): Entry | undefined {
    let oldest: Entry | undefined;
    for (const queue of this.#queues.values()) {
      if (queue.head && (oldest === undefined || queue.head.lastActivityAt < oldest.lastActivityAt)) {
        oldest = queue.head;
      }
    }
    return oldest;
  }

  /** Calls `remove` for every entry that expired by `now` (`expiresAt <= now`), oldest first; drops emptied queues. */
  removeExpired(now: number, remove: (entry: Entry) => void): void {
    for (const [timeoutMs, queue] of this.#queues) {
      while (queue.head !== undefined && queue.head.expiresAt <= now) remove(queue.head);
      if (queue.head === undefined) this.#queues.delete(timeoutMs);
    }
  }
}
