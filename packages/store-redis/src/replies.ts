import type { ResolvedSession, SessionKey, SessionRecord } from "@threadline/session-core";
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

/** `{isNew, id, created, last}` from the resolve script; the session expires `timeoutMs` after `last`. */
export function readResolved(reply: unknown, key: SessionKey, timeoutMs: number): ResolvedSession {
  if (!Array.isArray(reply) || reply.length !== 4) throw unexpectedReply("resolve", reply);
  const lastActivityAt = milliseconds(reply[3], "resolve", reply);
  return {
    sessionId: text(reply[1], "resolve", reply),
    namespace: key.namespace,
    userId: key.userId,
    createdAt: milliseconds(reply[2], "resolve", reply),
    lastActivityAt,
    expiresAt: lastActivityAt + timeoutMs,
    isNew: milliseconds(reply[0], "resolve", reply) === 1,
  };
}

/**
 * `{id, created, last}` (touch, which knows its timeout) or `{id, created, last, timeout}`
 * (get), or nil when there is no live session.
 */
export function readRecord(
  reply: unknown,
  key: SessionKey,
  operation: string,
  timeoutMs?: number,
): SessionRecord | null {
  if (reply === null || reply === undefined) return null;
  const length = timeoutMs === undefined ? 4 : 3;
  if (!Array.isArray(reply) || reply.length !== length) throw unexpectedReply(operation, reply);
  const lastActivityAt = milliseconds(reply[2], operation, reply);
  return {
    sessionId: text(reply[0], operation, reply),
    namespace: key.namespace,
    userId: key.userId,
    createdAt: milliseconds(reply[1], operation, reply),
    lastActivityAt,
    expiresAt: lastActivityAt + (timeoutMs ?? milliseconds(reply[3], operation, reply)),
  };
}

/** 1 or 0 from scripts that answer whether they acted. */
export function readFlag(reply: unknown, operation: string): boolean {
  return milliseconds(reply, operation, reply) === 1;
}

/** A list of JSON texts, parsed. */
export function readItems(reply: unknown, operation: string): unknown[] {
  if (!Array.isArray(reply)) throw unexpectedReply(operation, reply);
  return reply.map((item) => JSON.parse(text(item, operation, reply)) as unknown);
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
