import type { ItemBounds, ItemsChangeResult } from "../store.js";
import {
  type EncodedItemsChange,
  historyMismatch,
  itemsTooLarge,
  MAX_OPERATIONS_PER_SESSION,
  operationConflict,
  utf8Length,
} from "../store-kit/items-change.js";

const source = "memory";

/**
 * One session's items as JSON text, oldest first, in a queue that drops from the front in O(1)
 * (trimming) and appends and pops at the back. Each item knows its size and whether it starts a
 * group, so trimming drops whole groups and the byte total is kept, not recomputed.
 */
export class SessionItems {
  #texts: string[] = [];
  #bytes: number[] = [];
  #startsGroup: boolean[] = [];
  #head = 0;
  #totalBytes = 0;
  /** Operation ids applied to this session, oldest first, with their change's fingerprint. */
  readonly #operations = new Map<string, string>();

  get size(): number {
    return this.#texts.length - this.#head;
  }

  /** The last `limit` items (all when omitted), oldest first, as JSON text. */
  last(limit: number | undefined): string[] {
    const start = limit === undefined ? this.#head : Math.max(this.#head, this.#texts.length - limit);
    return this.#texts.slice(start);
  }

  /** Appends without bounds or operation id: the contract's plain `append`. */
  appendUnbounded(texts: readonly string[]): void {
    let first = true;
    for (const text of texts) {
      this.#push(text, utf8Length(text), first);
      first = false;
    }
  }

  pop(): string | undefined {
    if (this.size === 0) return undefined;
    this.#totalBytes -= this.#bytes.pop() as number;
    this.#startsGroup.pop();
    return this.#texts.pop();
  }

  /**
   * Applies an encoded change: the operation id first (a repeat does nothing, a conflict throws),
   * then the checks that can fail (mismatch, too large), then the change and the trimming. Throws
   * before changing anything.
   */
  apply(change: EncodedItemsChange, bounds: ItemBounds, operationId: string | undefined): ItemsChangeResult {
    if (operationId !== undefined) {
      const known = this.#operations.get(operationId);
      if (known === change.fingerprint) return { applied: false, trimmed: 0 };
      if (known !== undefined) throw operationConflict(operationId, source);
    }
    let keepFrom = this.#texts.length; // for replace-all and replace-suffix: where the kept items end
    let joinsGroup = change.continuesGroup && this.size > 0;
    if (change.type === "replace-all") keepFrom = this.#head;
    if (change.type === "replace-suffix") {
      keepFrom = this.#texts.length - change.expectedSuffix.length;
      if (
        keepFrom < this.#head ||
        change.expectedSuffix.some((text, index) => this.#texts[keepFrom + index] !== text)
      ) {
        throw historyMismatch(source);
      }
      joinsGroup = keepFrom > this.#head && this.#startsGroup[keepFrom] === false;
    }
    this.#checkGroupFits(change, bounds, keepFrom, joinsGroup);
    this.#truncate(keepFrom);
    change.texts.forEach((text, index) => {
      this.#push(text, change.bytes[index] as number, index === 0 && !joinsGroup);
    });
    if (operationId !== undefined) this.#remember(operationId, change.fingerprint);
    return { applied: true, trimmed: this.#trim(bounds) };
  }

  /** Throws `ITEMS_TOO_LARGE` when the group the change writes would exceed the bounds alone. */
  #checkGroupFits(change: EncodedItemsChange, bounds: ItemBounds, keepFrom: number, joinsGroup: boolean): void {
    let count = change.texts.length;
    let bytes = change.bytes.reduce((sum, size) => sum + size, 0);
    if (joinsGroup) {
      // The group the change joins: back from where the change writes to its first item.
      let index = keepFrom - 1;
      while (index >= this.#head) {
        count++;
        bytes += this.#bytes[index] as number;
        if (this.#startsGroup[index]) break;
        index--;
      }
    }
    if (count > bounds.maxItems || bytes > bounds.maxItemBytes) throw itemsTooLarge(count, bytes, bounds, source);
  }

  /** Drops whole groups from the front until within the bounds; returns how many items it dropped. */
  #trim(bounds: ItemBounds): number {
    let trimmed = 0;
    while (this.size > bounds.maxItems || this.#totalBytes > bounds.maxItemBytes) {
      do {
        this.#totalBytes -= this.#bytes[this.#head] as number;
        this.#head++;
        trimmed++;
      } while (this.#head < this.#texts.length && !this.#startsGroup[this.#head]);
    }
    if (this.#head > 1024 && this.#head * 2 > this.#texts.length) this.#compact();
    return trimmed;
  }

  #truncate(length: number): void {
    for (let index = length; index < this.#texts.length; index++) this.#totalBytes -= this.#bytes[index] as number;
    this.#texts.length = length;
    this.#bytes.length = length;
    this.#startsGroup.length = length;
  }

  #push(text: string, bytes: number, startsGroup: boolean): void {
    this.#texts.push(text);
    this.#bytes.push(bytes);
    this.#startsGroup.push(startsGroup || this.size === 1);
    this.#totalBytes += bytes;
  }

  #remember(operationId: string, fingerprint: string): void {
    this.#operations.set(operationId, fingerprint);
    if (this.#operations.size > MAX_OPERATIONS_PER_SESSION) {
      const oldest = this.#operations.keys().next().value as string;
      this.#operations.delete(oldest);
    }
  }

  #compact(): void {
    this.#texts = this.#texts.slice(this.#head);
    this.#bytes = this.#bytes.slice(this.#head);
    this.#startsGroup = this.#startsGroup.slice(this.#head);
    this.#head = 0;
  }
}
