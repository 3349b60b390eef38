import type { ItemBounds, ItemsChangeResult } from "@threadline/session-core";
import {
  historyMismatch,
  itemsTooLarge,
  MAX_OPERATIONS_PER_SESSION,
  operationConflict,
  utf8Length,
} from "@threadline/session-core/store-kit";
import type { DurableObjectStorageLike } from "./bindings.js";
import { source, type WireItemsChange } from "./protocol.js";
import { chunks } from "./storage-calls.js";

// A session's conversation items in its pair object's storage, laid out so that every change
// costs storage calls and keys in proportion to what it changes, never to the history's length:
//
//   item:{position}        one item's JSON text; positions [head, tail) are the history, oldest first
//   aux:group:{start}      [count, bytes] of the group (turn) starting at that position
//   aux:op:{key}           { fingerprint, n } of an operation id applied to the session's items
//   aux:opseq:{n}          the key of the n-th operation id, so the oldest can be dropped
//
// and a small record (`ItemsMeta`) kept in the session's value. An append writes its items, one
// group record and the session's value; trimming reads the oldest group records and deletes what
// it drops; reading the last N lists N keys. Positions only grow within an object's life, so a
// change never deletes and writes the same key in one batch unless it means to overwrite it.

/** Where a session's items are, kept in the session's stored value (a few numbers). */
export interface ItemsMeta {
  /** Position of the oldest item (always the start of a group). */
  head: number;
  /** Position after the newest item: `tail - head` items. */
  tail: number;
  /** UTF-8 bytes of the items' JSON texts. */
  bytes: number;
  /** Start of the newest group (`tail` when there are no items). */
  lastGroup: number;
  /** Bytes of the newest group. */
  lastGroupBytes: number;
  /** Operation ids remembered are numbered [opHead, opTail); at most `MAX_OPERATIONS_PER_SESSION`. */
  opHead: number;
  opTail: number;
}

/** A group record: how many items the group has and their bytes. */
type GroupRecord = [count: number, bytes: number];

/** An operation id's record: its change's fingerprint. */
interface OperationRecord {
  fingerprint: string;
  n: number;
}

export const ITEM_PREFIX = "item:";
const AUX_PREFIX = "aux:";
const GROUP_PREFIX = "aux:group:";
const OPERATION_PREFIX = "aux:op:";
const OPERATION_ORDER_PREFIX = "aux:opseq:";
/** Most group records a trim reads per storage call (it starts with 1 and doubles). */
const TRIM_PAGE = 64;

/** No items, continuing after `previous`'s positions; no operation ids (a new session starts with none). */
export function emptyItems(previous?: ItemsMeta): ItemsMeta {
  const position = previous?.tail ?? 0;
  return { head: position, tail: position, bytes: 0, lastGroup: position, lastGroupBytes: 0, opHead: 0, opTail: 0 };
}

export function itemCount(meta: ItemsMeta): number {
  return meta.tail - meta.head;
}

export function itemKey(position: number): string {
  return `${ITEM_PREFIX}${pad(position)}`;
}

/**
 * Writes and deletes decided in memory and issued together without an `await` in between, so the
 * runtime commits them as one batch. The last decision about a key wins.
 */
export class StorageBatch {
  readonly #puts = new Map<string, unknown>();
  readonly #deletes = new Set<string>();

  put(key: string, value: unknown): void {
    this.#deletes.delete(key);
    this.#puts.set(key, value);
  }

  delete(key: string): void {
    this.#puts.delete(key);
    this.#deletes.add(key);
  }

  /** Deletes the items at positions [from, to). */
  deleteItems(from: number, to: number): void {
    for (let position = from; position < to; position++) this.delete(itemKey(position));
  }

  get isEmpty(): boolean {
    return this.#puts.size === 0 && this.#deletes.size === 0;
  }

  /** Issues the batch, at most 128 keys per call (Cloudflare's limit). */
  issue(storage: DurableObjectStorageLike): Promise<unknown>[] {
    const writes: Promise<unknown>[] = chunks([...this.#deletes]).map((keys) => storage.delete(keys));
    for (const chunk of chunks([...this.#puts])) writes.push(storage.put(Object.fromEntries(chunk)));
    return writes;
  }
}

/** What a change decided: its result, the items' new record and the writes that make it so. */
export interface PlannedChange {
  result: ItemsChangeResult;
  meta: ItemsMeta;
  batch: StorageBatch;
}

/** The operation id of a change: as given (for messages) and as stored (a key of bounded length). */
export interface OperationRef {
  id: string;
  key: string;
}

/**
 * Plans one change (`items.apply`) as the memory store's `SessionItems.apply` does it: the
 * operation id first (a repeat changes nothing, a conflict throws), then the checks that can fail
 * (mismatch, too large), then the change, the trimming and the operation id's record. Reads what
 * it needs first; throws before deciding any write. Only storage reads are awaited, during which
 * the runtime delivers no other request to the object (its input gate), so the plan stays valid.
 */
export async function planChange(
  storage: DurableObjectStorageLike,
  meta: ItemsMeta,
  change: WireItemsChange,
  bounds: ItemBounds,
  operation: OperationRef | null,
): Promise<PlannedChange | ItemsChangeResult> {
  const suffixLength = change.type === "replace-suffix" ? change.expectedSuffix.length : 0;
  const suffixFrom = meta.tail - suffixLength;
  const readsSuffix = suffixLength > 0 && suffixFrom >= meta.head;
  const full = meta.opTail - meta.opHead >= MAX_OPERATIONS_PER_SESSION;
  const [known, evicted, suffixItems, suffixGroups, allGroups] = await Promise.all([
    operation === null ? undefined : storage.get<OperationRecord>(operationKey(operation.key)),
    operation !== null && full ? storage.get<string>(operationOrderKey(meta.opHead)) : undefined,
    readsSuffix
      ? storage.list<string>({ prefix: ITEM_PREFIX, start: itemKey(suffixFrom), end: itemKey(meta.tail) })
      : undefined,
    // Each group has an item, so the groups starting in the suffix and the one before are among these.
    readsSuffix
      ? storage.list<GroupRecord>({
          prefix: GROUP_PREFIX,
          end: groupKey(meta.tail),
          reverse: true,
          limit: suffixLength + 1,
        })
      : undefined,
    change.type === "replace-all" && meta.tail > meta.head
      ? storage.list<GroupRecord>({ prefix: GROUP_PREFIX, start: groupKey(meta.head), end: groupKey(meta.tail) })
      : undefined,
  ]);
  if (operation !== null && known !== undefined) {
    if (known.fingerprint === change.fingerprint) return { applied: false, trimmed: 0 };
    throw operationConflict(operation.id, source);
  }

  const batch = new StorageBatch();
  const sizes = change.texts.map(utf8Length);
  const added = sum(sizes);
  // Where the change writes, the part of a group it joins (if any), and the newest group it leaves
  // before its items otherwise.
  let keepFrom = meta.tail;
  let removedBytes = 0;
  let joined: { start: number; count: number; bytes: number } | undefined;
  let before: { start: number; bytes: number } | undefined =
    meta.tail > meta.head ? { start: meta.lastGroup, bytes: meta.lastGroupBytes } : undefined;
  if (change.type === "append") {
    if (change.continuesGroup && before !== undefined) {
      joined = { start: before.start, count: meta.tail - before.start, bytes: before.bytes };
    }
  } else if (change.type === "replace-all") {
    keepFrom = meta.head;
    removedBytes = meta.bytes;
    before = undefined;
    for (const key of allGroups?.keys() ?? []) batch.delete(key);
  } else {
    keepFrom = suffixFrom;
    if (keepFrom < meta.head) throw historyMismatch(source);
    if (suffixLength > 0) {
      const stored = [...(suffixItems?.values() ?? [])];
      if (stored.length !== suffixLength || stored.some((text, index) => text !== change.expectedSuffix[index])) {
        throw historyMismatch(source);
      }
      const storedSizes = stored.map(utf8Length);
      removedBytes = sum(storedSizes);
      // Newest first: groups starting in the suffix go; the first one before it stays, whole or in part.
      before = undefined;
      let end = meta.tail;
      for (const [key, [, bytes]] of suffixGroups ?? []) {
        const start = positionOf(key, GROUP_PREFIX);
        if (start >= keepFrom) {
          batch.delete(key);
          end = start;
          continue;
        }
        if (end > keepFrom) {
          // keepFrom is inside this group: the replacement joins what stays of it.
          const cut = sum(storedSizes.slice(0, end - keepFrom));
          joined = { start, count: keepFrom - start, bytes: bytes - cut };
        } else {
          before = { start, bytes };
        }
        break;
      }
    }
  }

  const groupCount = (joined?.count ?? 0) + change.texts.length;
  const groupBytes = (joined?.bytes ?? 0) + added;
  if (groupCount > bounds.maxItems || groupBytes > bounds.maxItemBytes) {
    throw itemsTooLarge(groupCount, groupBytes, bounds, source);
  }

  change.texts.forEach((text, index) => {
    batch.put(itemKey(keepFrom + index), text);
  });
  const tail = keepFrom + change.texts.length;
  batch.deleteItems(tail, meta.tail);
  let head = meta.head;
  let bytes = meta.bytes - removedBytes + added;
  let lastGroup = tail;
  let lastGroupBytes = 0;
  if (joined !== undefined || change.texts.length > 0) {
    lastGroup = joined?.start ?? keepFrom;
    lastGroupBytes = groupBytes;
    batch.put(groupKey(lastGroup), [groupCount, groupBytes] satisfies GroupRecord);
  } else if (before !== undefined) {
    lastGroup = before.start;
    lastGroupBytes = before.bytes;
  }

  // Trim whole groups, oldest first. The newest fits by itself (checked above), so the records
  // read here are of groups the change did not touch, except when the bounds shrank below it.
  let trimmed = 0;
  const exceeding = () => tail - head > bounds.maxItems || bytes > bounds.maxItemBytes;
  const drop = (start: number, count: number, groupSize: number) => {
    batch.deleteItems(start, start + count);
    batch.delete(groupKey(start));
    head = start + count;
    bytes -= groupSize;
    trimmed += count;
  };
  // An append usually drops one group: read one record, then twice as many each time.
  for (let limit = 1; exceeding() && head < lastGroup; limit = Math.min(limit * 2, TRIM_PAGE)) {
    const page = await storage.list<GroupRecord>({
      prefix: GROUP_PREFIX,
      start: groupKey(head),
      end: groupKey(lastGroup),
      limit,
    });
    if (page.size === 0) break; // records missing (cannot happen when they are kept with every change)
    for (const [key, [count, groupSize]] of page) {
      if (!exceeding()) break;
      drop(positionOf(key, GROUP_PREFIX), count, groupSize);
    }
  }
  if (exceeding() && head === lastGroup && tail > head) drop(lastGroup, tail - lastGroup, lastGroupBytes);
  if (head === tail) {
    lastGroup = tail;
    lastGroupBytes = 0;
  }

  let { opHead, opTail } = meta;
  if (operation !== null) {
    batch.put(operationKey(operation.key), { fingerprint: change.fingerprint, n: opTail } satisfies OperationRecord);
    batch.put(operationOrderKey(opTail), operation.key);
    opTail++;
    if (opTail - opHead > MAX_OPERATIONS_PER_SESSION) {
      if (evicted !== undefined) batch.delete(operationKey(evicted));
      batch.delete(operationOrderKey(opHead));
      opHead++;
    }
  }
  return {
    result: { applied: true, trimmed },
    meta: { head, tail, bytes, lastGroup, lastGroupBytes, opHead, opTail },
    batch,
  };
}

/** Plans removing the newest item: its text (or `null`), the new record and the writes. */
export async function planPop(
  storage: DurableObjectStorageLike,
  meta: ItemsMeta,
): Promise<{ text: string | null; meta: ItemsMeta; batch: StorageBatch }> {
  const batch = new StorageBatch();
  if (meta.tail === meta.head) return { text: null, meta, batch };
  const last = meta.tail - 1;
  const emptiesGroup = last === meta.lastGroup;
  const [text, previous] = await Promise.all([
    storage.get<string>(itemKey(last)),
    emptiesGroup && last > meta.head
      ? storage.list<GroupRecord>({ prefix: GROUP_PREFIX, end: groupKey(last), reverse: true, limit: 1 })
      : undefined,
  ]);
  const size = text === undefined ? 0 : utf8Length(text);
  batch.delete(itemKey(last));
  let lastGroup = meta.lastGroup;
  let lastGroupBytes = meta.lastGroupBytes - size;
  if (emptiesGroup) {
    batch.delete(groupKey(last));
    const [entry] = previous ?? [];
    lastGroup = entry === undefined ? last : positionOf(entry[0], GROUP_PREFIX);
    lastGroupBytes = entry === undefined ? 0 : entry[1][1];
  } else {
    batch.put(groupKey(lastGroup), [last - lastGroup, lastGroupBytes] satisfies GroupRecord);
  }
  return {
    text: text ?? null,
    meta: { ...meta, tail: last, bytes: meta.bytes - size, lastGroup, lastGroupBytes },
    batch,
  };
}

/**
 * Plans deleting a session's items and their bookkeeping (group records, operation ids); with
 * `keepItems` (carry-over), only the bookkeeping. One storage read when there is bookkeeping.
 */
export async function planDrop(
  storage: DurableObjectStorageLike,
  meta: ItemsMeta,
  keepItems = false,
): Promise<StorageBatch> {
  const batch = new StorageBatch();
  if (!keepItems) batch.deleteItems(meta.head, meta.tail);
  if (meta.tail > meta.head || meta.opTail > meta.opHead) {
    for (const key of (await storage.list({ prefix: AUX_PREFIX })).keys()) batch.delete(key);
  }
  return batch;
}

/** The last `limit` items (all when `null`), oldest first: one storage read of that many keys. */
export async function readItems(
  storage: DurableObjectStorageLike,
  meta: ItemsMeta,
  limit: number | null = null,
): Promise<string[]> {
  const first = limit === null ? meta.head : Math.max(meta.head, meta.tail - limit);
  if (first >= meta.tail) return [];
  const stored = await storage.list<string>({ prefix: ITEM_PREFIX, start: itemKey(first), end: itemKey(meta.tail) });
  return [...stored.values()];
}

/**
 * The record of items an earlier version stored as `item:0` … `item:{count - 1}` with only a
 * count: one group. Reads them once to count their bytes, and writes the group's record.
 */
export async function adoptItems(storage: DurableObjectStorageLike, count: number): Promise<ItemsMeta> {
  const meta = { ...emptyItems(), tail: count };
  if (count === 0) return meta;
  const bytes = sum((await readItems(storage, meta)).map(utf8Length));
  await storage.put({ [groupKey(0)]: [count, bytes] satisfies GroupRecord });
  return { ...meta, bytes, lastGroupBytes: bytes };
}

function groupKey(position: number): string {
  return `${GROUP_PREFIX}${pad(position)}`;
}

function operationKey(key: string): string {
  return `${OPERATION_PREFIX}${key}`;
}

function operationOrderKey(n: number): string {
  return `${OPERATION_ORDER_PREFIX}${pad(n)}`;
}

function positionOf(key: string, prefix: string): number {
  return Number(key.slice(prefix.length));
}

function pad(position: number): string {
  return String(position).padStart(12, "0");
}

function sum(values: readonly number[]): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}
