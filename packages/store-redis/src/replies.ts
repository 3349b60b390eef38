import type {
  ForgetResult,
  ResolvedSession,
  SessionEndEvent,
  SessionEndReason,
  SessionKey,
  SessionRecord,
  SessionTotals,
} from "@threadline/session-core";
import { unexpectedReply } from "./failures.js";

// Script replies are small arrays of strings and integers. Clients configured for Buffers or
// string numbers still read correctly; anything else is a STORE_ERROR, never a wrong session.

function text(value: unknown, operation: string, reply: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "object" && value !== null && value instanceof Uint8Array)
    return new TextDecoder().decode(value);
  throw unexpectedReply(operation, reply);
}

function milliseconds(value: unknown, operation: string, reply: unknown): number {
  const number = typeof value === "number" ? value : Number(typeof value === "string" ? value : Number.NaN);
  if (!Number.isFinite(number)) throw unexpectedReply(operation, reply);
  return number;
}

/** An optional text: nil (a Lua `false`) is `undefined`. */
function optionalText(value: unknown, operation: string, reply: unknown): string | undefined {
  return value === null || value === undefined ? undefined : text(value, operation, reply);
}

const endReasons: ReadonlySet<string> = new Set<SessionEndReason>([
  "expired",
  "closed",
  "replaced",
  "max-duration",
  "max-turns",
  "evicted",
  "forgotten",
]);

/**
 * Totals as the scripts keep them: "<runs> <inputTokens> <outputTokens> <totalTokens> <toolCalls>
 * <handoffs> <errors>", then " =<lastAgent>" when known.
 */
export function readTotals(value: unknown, operation: string, reply: unknown): SessionTotals {
  const stored = text(value, operation, reply);
  const agentAt = stored.indexOf(" =");
  const numbers = (agentAt === -1 ? stored : stored.slice(0, agentAt)).split(" ").map(Number);
  if (numbers.length !== 7 || !numbers.every(Number.isFinite)) throw unexpectedReply(operation, reply);
  const [runs, inputTokens, outputTokens, totalTokens, toolCalls, handoffs, errors] = numbers as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const totals: SessionTotals = { runs, inputTokens, outputTokens, totalTokens, toolCalls, handoffs, errors };
  if (agentAt !== -1) totals.lastAgent = stored.slice(agentAt + 2);
  return totals;
}

/** Sets `record.totals` from an optional stored totals value. */
function withTotals(record: SessionRecord, value: unknown, operation: string, reply: unknown): void {
  if (value !== null && value !== undefined) record.totals = readTotals(value, operation, reply);
}

/** The record of `{id, created, last, timeout, turns, prev|nil[, totals|nil]}` at `offset` of a reply. */
function recordAt(reply: unknown[], offset: number, key: SessionKey, operation: string): SessionRecord {
  const lastActivityAt = milliseconds(reply[offset + 2], operation, reply);
  const record: SessionRecord = {
    sessionId: text(reply[offset], operation, reply),
    namespace: key.namespace,
    userId: key.userId,
    createdAt: milliseconds(reply[offset + 1], operation, reply),
    lastActivityAt,
    expiresAt: lastActivityAt + milliseconds(reply[offset + 3], operation, reply),
    turns: milliseconds(reply[offset + 4], operation, reply),
  };
  const previousSessionId = optionalText(reply[offset + 5], operation, reply);
  if (previousSessionId !== undefined) record.previousSessionId = previousSessionId;
  withTotals(record, reply[offset + 6], operation, reply);
  return record;
}

/**
 * An end as the scripts return it, at `offset`: {reason, endedAt, id, created, last, expiresAt,
 * turns, prev|nil, totals|nil} (nine fields).
 */
export function endAt(reply: unknown[], offset: number, key: SessionKey, operation: string): SessionEndEvent {
  const reason = text(reply[offset], operation, reply);
  if (!endReasons.has(reason)) throw unexpectedReply(operation, reply);
  const session: SessionRecord = {
    sessionId: text(reply[offset + 2], operation, reply),
    namespace: key.namespace,
    userId: key.userId,
    createdAt: milliseconds(reply[offset + 3], operation, reply),
    lastActivityAt: milliseconds(reply[offset + 4], operation, reply),
    expiresAt: milliseconds(reply[offset + 5], operation, reply),
    turns: milliseconds(reply[offset + 6], operation, reply),
  };
  const previousSessionId = optionalText(reply[offset + 7], operation, reply);
  if (previousSessionId !== undefined) session.previousSessionId = previousSessionId;
  withTotals(session, reply[offset + 8], operation, reply);
  return { session, reason: reason as SessionEndReason, endedAt: milliseconds(reply[offset + 1], operation, reply) };
}

/** Fields of an end in a reply. */
export const END_FIELDS = 9;

/**
 * `{0, id, created, last, timeout, turns, prev|nil[, totals]}` from the resolve script (a renewal,
 * with totals when the session has runs), or for a
 * creation `{1, …, end|nil, carriedSessionId|nil, carried item…}` (the end it claimed as a nested
 * array of END_FIELDS, and the items carried over from the previous session).
 */
export function readResolved(reply: unknown, key: SessionKey): ResolvedSession {
  if (!Array.isArray(reply) || reply.length < 7) throw unexpectedReply("resolve", reply);
  const isNew = milliseconds(reply[0], "resolve", reply) === 1;
  if (isNew ? reply.length < 9 : reply.length > 8) throw unexpectedReply("resolve", reply);
  const lastActivityAt = milliseconds(reply[3], "resolve", reply);
  const session: ResolvedSession = {
    sessionId: text(reply[1], "resolve", reply),
    namespace: key.namespace,
    userId: key.userId,
    createdAt: milliseconds(reply[2], "resolve", reply),
    lastActivityAt,
    expiresAt: lastActivityAt + milliseconds(reply[4], "resolve", reply),
    turns: milliseconds(reply[5], "resolve", reply),
    isNew,
  };
  // Set only when there is one, as the memory store does: the hit path allocates nothing more.
  const previous = reply[6];
  if (previous !== null && previous !== undefined) session.previousSessionId = text(previous, "resolve", reply);
  if (!isNew) {
    if (reply.length === 8) withTotals(session, reply[7], "resolve", reply);
  } else {
    const ended = reply[7];
    if (ended !== null && ended !== undefined) {
      if (!Array.isArray(ended) || ended.length !== END_FIELDS) throw unexpectedReply("resolve", reply);
      session.ended = endAt(ended, 0, key, "resolve");
    }
    const carriedId = reply[8];
    if (carriedId !== null && carriedId !== undefined) {
      session.carried = { sessionId: text(carriedId, "resolve", reply), items: readItems(reply.slice(9), "resolve") };
    }
  }
  return session;
}

/**
 * `{id, created, last, timeout, turns, prev|nil, totals|nil}` (touch, get; listing reads the first
 * six alone), or nil when there is no live session.
 */
export function readRecord(reply: unknown, key: SessionKey, operation: string): SessionRecord | null {
  if (reply === null || reply === undefined) return null;
  if (!Array.isArray(reply) || (reply.length !== 6 && reply.length !== 7)) throw unexpectedReply(operation, reply);
  return recordAt(reply, 0, key, operation);
}

/** An end (close), or nil. */
export function readEnd(reply: unknown, key: SessionKey, operation: string): SessionEndEvent | null {
  if (reply === null || reply === undefined) return null;
  if (!Array.isArray(reply) || reply.length !== END_FIELDS) throw unexpectedReply(operation, reply);
  return endAt(reply, 0, key, operation);
}

/** `{removed}` or `{removed, end…}` from the forget script. */
export function readForget(reply: unknown, key: SessionKey): ForgetResult {
  if (!Array.isArray(reply) || (reply.length !== 1 && reply.length !== 1 + END_FIELDS)) {
    throw unexpectedReply("forget", reply);
  }
  const removed = milliseconds(reply[0], "forget", reply);
  return reply.length === 1 ? { removed } : { removed, ended: endAt(reply, 1, key, "forget") };
}

/**
 * A history entry as the scripts write it: `[keepUntil, id, created, last, expiresAt, turns,
 * prev|null, reason, endedAt]`, and the session's totals (as the scripts keep them) once it has runs.
 */
export interface StoredEnd {
  keepUntil: number;
  end: SessionEndEvent;
}

/** Parses one history entry of the pair `key`, or throws STORE_ERROR. */
export function readHistoryEntry(entry: unknown, key: SessionKey, operation: string): StoredEnd {
  let value: unknown;
  try {
    value = JSON.parse(text(entry, operation, entry));
  } catch {
    throw unexpectedReply(operation, entry);
  }
  if (!Array.isArray(value) || (value.length !== 9 && value.length !== 10)) throw unexpectedReply(operation, entry);
  const [keepUntil, sessionId, createdAt, lastActivityAt, expiresAt, turns, previous, reason, endedAt, totals] = value;
  if (
    typeof sessionId !== "string" ||
    ![keepUntil, createdAt, lastActivityAt, expiresAt, turns, endedAt].every(Number.isFinite) ||
    !(previous === null || typeof previous === "string") ||
    typeof reason !== "string" ||
    !endReasons.has(reason)
  ) {
    throw unexpectedReply(operation, entry);
  }
  const session: SessionRecord = {
    sessionId,
    namespace: key.namespace,
    userId: key.userId,
    createdAt,
    lastActivityAt,
    expiresAt,
    turns,
  };
  if (previous !== null) session.previousSessionId = previous;
  withTotals(session, totals, operation, entry);
  return { keepUntil, end: { session, reason: reason as SessionEndReason, endedAt } };
}

/** 1 or 0 from scripts that answer whether they acted. */
export function readFlag(reply: unknown, operation: string): boolean {
  return milliseconds(reply, operation, reply) === 1;
}

/** A stored item's JSON text: without the "+" that marks an item continuing its group (see scripts.ts). */
function itemText(stored: string): string {
  return stored.charCodeAt(0) === 43 ? stored.slice(1) : stored;
}

/** A list of stored items (JSON texts), parsed. */
export function readItems(reply: unknown, operation: string): unknown[] {
  if (!Array.isArray(reply)) throw unexpectedReply(operation, reply);
  return reply.map((item) => JSON.parse(itemText(text(item, operation, reply))) as unknown);
}

/** One JSON text or nil, parsed. */
export function readItem(reply: unknown, operation: string): unknown {
  if (reply === null || reply === undefined) return undefined;
  return JSON.parse(text(reply, operation, reply)) as unknown;
}

/** ms since epoch from a `TIME` reply (`[seconds, microseconds]`), truncated as the scripts do. */
export function readServerTime(reply: unknown, operation: string): number {
  if (!Array.isArray(reply) || reply.length !== 2) throw unexpectedReply(operation, reply);
  const seconds = milliseconds(reply[0], operation, reply);
  const micro = milliseconds(reply[1], operation, reply);
  return seconds * 1000 + Math.floor(micro / 1000);
}

/**
 * Whether an `HMGET id last timeout` reply is the live session `sessionId` at `now` (ms, or a
 * `TIME` reply): the scripts' rule, `id` matches and `now < last + timeout`.
 */
export function readLiveness(record: unknown, sessionId: string, now: unknown, operation: string): boolean {
  if (!Array.isArray(record) || record.length !== 3) throw unexpectedReply(operation, record);
  if (record[0] === null || record[0] === undefined) return false;
  if (text(record[0], operation, record) !== sessionId) return false;
  const at = typeof now === "number" ? now : readServerTime(now, operation);
  return at < milliseconds(record[1], operation, record) + milliseconds(record[2], operation, record);
}
