import type { ListPage, ListRequest, SessionSummary } from "../store.js";
import { invalidCursor, listLimit, resumeIndex } from "../store-kit/history.js";
import { type Entry, isLive } from "./entry.js";
import type { Namespace, Namespaces } from "./namespaces.js";
import { entrySummaries } from "./records.js";

const source = "memory";

/** Where a listing stands: after this entry of this namespace (or, within it, after this session). */
interface Position {
  namespaceOrdinal: number;
  namespace: string;
  listOrder: number;
  userId: string;
  /** The last session returned of a user whose sessions did not fit the page: creation time and id. */
  within?: [number, string];
}

/**
 * One page of sessions across users. Each namespace is walked in insertion order and the cursor
 * names the last entry returned, so the next page resumes from it in O(1). If that entry was
 * removed meanwhile (swept, evicted), the page finds its place by walking the namespace from its
 * start. As with Redis SCAN, a session present for the whole listing is returned once; one
 * created during it may or may not be.
 */
export function listPage(namespaces: Namespaces, request: ListRequest): ListPage {
  const limit = listLimit(request.limit, source);
  const status = request.status ?? "active";
  const after = request.cursor === undefined ? undefined : decodeCursor(request.cursor);
  const sessions: SessionSummary[] = [];
  let lastNamespace: Namespace | undefined;
  let lastEntry: Entry | undefined;
  for (const namespace of namespacesToList(namespaces, request.namespace, after)) {
    let first = namespace.head;
    let within: [number, string] | undefined;
    if (after?.namespaceOrdinal === namespace.ordinal) {
      const cursorEntry = namespace.users.get(after.userId);
      if (after.within !== undefined && cursorEntry?.listOrder === after.listOrder) {
        first = cursorEntry;
        within = after.within;
      } else {
        first = entryAfter(namespace, after);
      }
    }
    for (let entry = first; entry !== undefined; entry = entry.listNext) {
      let summaries =
        status === "active"
          ? activeOnly(entry, request.now)
          : entrySummaries(entry, request.now, status, request.retentionMs ?? 0);
      if (entry === first && within !== undefined) summaries = summaries.slice(resumeIndex(summaries, within));
      if (summaries.length === 0) continue;
      // Sessions beyond a full page: there is more, resume after the last one returned.
      if (sessions.length === limit && lastNamespace !== undefined && lastEntry !== undefined) {
        return { sessions, cursor: encodeCursor(lastNamespace, lastEntry) };
      }
      for (const summary of summaries) {
        if (sessions.length === limit) {
          const last = sessions[sessions.length - 1] as SessionSummary;
          return { sessions, cursor: encodeCursor(namespace, entry, [last.createdAt, last.sessionId]) };
        }
        sessions.push(summary);
      }
      lastNamespace = namespace;
      lastEntry = entry;
    }
  }
  return { sessions };
}

const none: SessionSummary[] = [];

// Spelled out rather than `activeSummary(toRecord(entry))`: a full listing builds one per session.
function activeOnly(entry: Entry, now: number): SessionSummary[] {
  if (!isLive(entry, now)) return none;
  const summary: SessionSummary = {
    sessionId: entry.sessionId,
    namespace: entry.namespace,
    userId: entry.userId,
    createdAt: entry.createdAt,
    lastActivityAt: entry.lastActivityAt,
    expiresAt: entry.expiresAt,
    turns: entry.turns,
    status: "active",
  };
  if (entry.previousSessionId !== undefined) summary.previousSessionId = entry.previousSessionId;
  return [summary];
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

function encodeCursor(namespace: Namespace, last: Entry, within?: [number, string]): string {
  const position = [namespace.ordinal, namespace.name, last.listOrder, last.userId];
  return JSON.stringify(within === undefined ? position : [...position, ...within]);
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
    (value.length === 4 || (value.length === 6 && Number.isFinite(value[4]) && typeof value[5] === "string")) &&
    Number.isSafeInteger(value[0]) &&
    value[0] >= 1 &&
    typeof value[1] === "string" &&
    Number.isSafeInteger(value[2]) &&
    value[2] >= 1 &&
    typeof value[3] === "string"
  ) {
    const position: Position = {
      namespaceOrdinal: value[0],
      namespace: value[1],
      listOrder: value[2],
      userId: value[3],
    };
    if (value.length === 6) position.within = [value[4], value[5]];
    return position;
  }
  throw invalidCursor(source);
}
