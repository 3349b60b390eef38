import type { Entry } from "./entry.js";

interface Due {
  entry: Entry;
  keepUntil: number;
}

/**
 * When entries' history entries fall out of their retention, in the order they were added. A
 * sweep pops what is due and prunes those entries, so pruning costs in proportion to what fell
 * out. Retentions differ at most between managers, so the order is close to `keepUntil` order;
 * an entry behind a later one is pruned one sweep late, and is invisible meanwhile (listing
 * checks `keepUntil` itself).
 */
export class HistoryQueue {
  #due: Due[] = [];
  #head = 0;

  add(entry: Entry, keepUntil: number): void {
    this.#due.push({ entry, keepUntil });
  }

  /** Calls `prune` once per entry with history due by `now`. */
  popDue(now: number, prune: (entry: Entry) => void): void {
    const due = this.#due;
    while (this.#head < due.length && (due[this.#head] as Due).keepUntil <= now) {
      prune((due[this.#head] as Due).entry);
      this.#head++;
    }
    // Compact once the consumed prefix dominates, so the array stays proportional to what is pending.
    if (this.#head > 1024 && this.#head * 2 > due.length) {
      this.#due = due.slice(this.#head);
      this.#head = 0;
    }
  }
}
