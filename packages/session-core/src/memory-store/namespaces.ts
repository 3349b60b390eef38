import type { Entry } from "./entry.js";

/** The entries of one namespace: by user id, and in insertion order for listing. */
export interface Namespace {
  readonly name: string;
  /** Position among namespaces in listing order; grows with every new namespace, never reused. */
  readonly ordinal: number;
  readonly users: Map<string, Entry>;
  head: Entry | undefined;
  tail: Entry | undefined;
}

/**
 * Every entry of the store, by namespace and user id. Listing walks each namespace's entries in
 * insertion order through their links, so a cursor resumes in O(1) from the last entry it
 * returned: a full listing costs O(N), not O(N²) as paging by offset does.
 */
export class Namespaces {
  readonly #byName = new Map<string, Namespace>();
  #ordinals = 0;
  #listOrders = 0;
  // Most apps use one or two namespaces; remembering the last one saves a lookup per call.
  #last: Namespace | undefined;

  get(name: string): Namespace | undefined {
    if (this.#last?.name === name) return this.#last;
    const namespace = this.#byName.get(name);
    if (namespace !== undefined) this.#last = namespace;
    return namespace;
  }

  find(name: string, userId: string): Entry | undefined {
    return this.get(name)?.users.get(userId);
  }

  /** All namespaces in listing order. */
  values(): IterableIterator<Namespace> {
    return this.#byName.values();
  }

  /** The next listing position, for a new entry. */
  nextListOrder(): number {
    return ++this.#listOrders;
  }

  /** Adds a new entry (its user must not have one) at the end of its namespace's listing order. */
  add(entry: Entry): void {
    let namespace = this.get(entry.namespace);
    if (namespace === undefined) {
      namespace = {
        name: entry.namespace,
        ordinal: ++this.#ordinals,
        users: new Map(),
        head: undefined,
        tail: undefined,
      };
      this.#byName.set(entry.namespace, namespace);
    }
    namespace.users.set(entry.userId, entry);
    entry.listPrevious = namespace.tail;
    if (namespace.tail) namespace.tail.listNext = entry;
    else namespace.head = entry;
    namespace.tail = entry;
  }

  /** Removes an entry; drops its namespace when it was the last one. Returns whether it was held. */
  remove(entry: Entry): boolean {
    const namespace = this.get(entry.namespace);
    if (namespace === undefined || namespace.users.get(entry.userId) !== entry) return false;
    namespace.users.delete(entry.userId);
    if (entry.listPrevious) entry.listPrevious.listNext = entry.listNext;
    else namespace.head = entry.listNext;
    if (entry.listNext) entry.listNext.listPrevious = entry.listPrevious;
    else namespace.tail = entry.listPrevious;
    // The entry keeps its own listNext, but nothing reaches it any more; clear both for the GC.
    entry.listPrevious = undefined;
    entry.listNext = undefined;
    if (namespace.users.size === 0) {
      this.#byName.delete(entry.namespace);
      if (this.#last === namespace) this.#last = undefined;
    }
    return true;
  }
}
