import type { RunRecord } from "../run-record.js";

/**
 * The sink's buffer: records in the order they were added, taken from the front in batches or
 * dropped from the front when full. Each record has a sequence number (its position among all
 * records ever added), so a flush can wait for "everything added before me". O(1) per record:
 * an index moves over the array and the array is compacted once half of it is spent.
 */
export class RecordQueue {
  #items: RunRecord[] = [];
  #head = 0;
  /** Sequence number of the record at the front (the next one to be taken or dropped). */
  #headSequence = 0;

  get size(): number {
    return this.#items.length - this.#head;
  }

  /** Sequence number of the front record; equals {@link added} when the queue is empty. */
  get headSequence(): number {
    return this.#headSequence;
  }

  /** How many records were ever added; the next record's sequence number. */
  get added(): number {
    return this.#headSequence + this.size;
  }

  push(record: RunRecord): void {
    this.#items.push(record);
  }

  /** Removes and returns the front record (the full buffer's drop path: no array is made). */
  shift(): RunRecord | undefined {
    if (this.#head === this.#items.length) return undefined;
    const record = this.#items[this.#head] as RunRecord;
    this.#items[this.#head] = undefined as unknown as RunRecord; // let it go now, not at the next compaction
    this.#head++;
    this.#headSequence++;
    this.#compact();
    return record;
  }

  /** Removes and returns up to `count` records from the front. */
  take(count: number): RunRecord[] {
    const end = Math.min(this.#head + count, this.#items.length);
    const taken = this.#items.slice(this.#head, end);
    this.#head = end;
    this.#headSequence += taken.length;
    this.#compact();
    return taken;
  }

  #compact(): void {
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }
}
