import { SessionError } from "../errors.js";
import type { ListPage, ListRequest, SessionRecord } from "../store.js";
import { describeValue } from "../validation.js";
import { type Entry, isLive } from "./entry.js";
import type { Namespace, Namespaces } from "./namespaces.js";
import { toRecord } from "./records.js";

const source = "memory";

/** Where a listing stands: after this entry of this namespace. */
interface Position {
  namespaceOrdinal: number;
  namespace: string;
  listOrder: number;
  userId: string;
}

/**
 * One page of live sessions. Each namespace is walked in insertion order and the cursor names the
 * last entry returned, so the next page resumes from it in O(1). If that entry was removed
 * meanwhile (swept, evicted), the page finds its place by walking the namespace from its start.
 * As with Redis SCAN, a session present for the whole listing is returned once; one created
 * during it may or may not be.
 */
export function listPage(namespaces: Namespaces, request: ListRequest): ListPage {
  const limit = request.limit ?? 100;
  if (!(Number.isInteger(limit) && limit >= 1)) {
    throw new SessionError({
      code: "INVALID_OPTION",
      source,
      message: `limit must be a whole number ≥ 1, got ${describeValue(limit)}.`,
    });
  }
  const after = request.cursor === undefined ? undefined : decodeCursor(request.cursor);
  const sessions: SessionRecord[] = [];
  let lastNamespace: Namespace | undefined;
  let lastEntry: Entry | undefined;
  for (const namespace of namespacesToList(namespaces, request.namespace, after)) {
    const first = after?.namespaceOrdinal === namespace.ordinal ? entryAfter(namespace, after) : namespace.head;
    for (let entry = first; entry !== undefined; entry = entry.listNext) {
      if (!isLive(entry, request.now)) continue;
      // A live entry beyond a full page: there is more, resume after the last one returned.
      if (sessions.length === limit && lastNamespace !== undefined && lastEntry !== undefined) {
        return { sessions, cursor: encodeCursor(lastNamespace, lastEntry) };
      }
      sessions.push(toRecord(entry));
      lastNamespace = namespace;
      lastEntry = entry;
    }
  }
  return { sessions };
}

function* namespacesToList(
  namespaces: Namespaces,
  only: string | undefined,
  after: Position | undefined,
): Generator<Namespace> {
  if (only !== undefined) {
    const namespace = namespaces.get(only);
    if (namespace !== undefined && (after === undefined || namespace.ordinal === after.namespaceOrdinal))
      yield namespace;
    return;
  }
  for (const namespace of namespaces.values()) {
    if (after === undefined || namespace.ordinal >= after.namespaceOrdinal) yield namespace;
  }
}

/** The first entry after the cursor's position in `namespace`. */
function entryAfter(namespace: Namespace, after: Position): Entry | undefined {
  const last = namespace.users.get(after.userId);
  if (last !== undefined && last.listOrder === after.listOrder) return last.listNext;
  // The cursor's entry is gone: list orders only grow along the list, so skip to the first later one.
  let entry = namespace.head;
  while (entry !== undefined && entry.listOrder <= after.listOrder) entry = entry.listNext;
  return entry;
}

function encodeCursor(namespace: Namespace, last: Entry): string {
  return JSON.stringify([namespace.ordinal, namespace.name, last.listOrder, last.userId]);
}

function decodeCursor(cursor: string): Position {
  let value: unknown;
  try {
    value = typeof cursor === "string" ? JSON.parse(cursor) : undefined;
  } catch {
    value = undefined;
  }
  if (
    Array.isArray(value) &&
    value.length === 4 &&
    Number.isSafeInteger(value[0]) &&
    value[0] >= 1 &&
    typeof value[1] === "string" &&
    Number.isSafeInteger(value[2]) &&
    value[2] >= 1 &&
    typeof value[3] === "string"
  ) {
    return { namespaceOrdinal: value[0], namespace: value[1], listOrder: value[2], userId: value[3] };
  }
  throw new SessionError({
    code: "INVALID_OPTION",
    source,
    message:
      "cursor is not one this store returned. Pass back the cursor of the previous page unchanged, or omit it to start over.",
  });
}
