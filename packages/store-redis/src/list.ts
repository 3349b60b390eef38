import { type ListPage, type ListRequest, SessionError, type SessionRecord } from "@threadline/session-core";
import type { ScriptTransport } from "./client.js";
import { source } from "./failures.js";
import { parseSessionKey, sessionKeyPattern } from "./keys.js";
import { readRecord } from "./replies.js";
import { bounded, type RunScript } from "./script-runner.js";
import { scripts } from "./scripts.js";

/** Where a listing stands: which master (by position), the SCAN cursor of its current batch, and the last key returned from that batch. */
interface Position {
  node: number;
  scan: string;
  after: string | undefined;
}

// SCAN calls one page may make before it returns what it has (maybe nothing) with a cursor,
// so a page over a large keyspace with few matches still answers in bounded time.
const MAX_SCAN_STEPS = 50;
const SCAN_COUNT = 100;

export interface ListerOptions {
  transport: ScriptTransport;
  run: RunScript;
  keyPrefix: string;
  nowArgument: (now: number) => string;
  timeoutMs: number;
}

/**
 * Lists live sessions with SCAN (never KEYS), master by master on a cluster. A SCAN batch can
 * be larger than the page, so the cursor remembers the batch's own SCAN cursor and the last
 * key returned; the next page rescans that batch, sorted, and continues after that key. Pages
 * hold at most `limit` sessions. As with SCAN itself, a session present for the whole listing
 * is returned at least once; one created or ended meanwhile may or may not be.
 */
export function createLister(options: ListerOptions): (request: ListRequest) => Promise<ListPage> {
  const { transport, run, keyPrefix, nowArgument, timeoutMs } = options;

  async function fetch(key: string, now: number): Promise<SessionRecord | null> {
    const pair = parseSessionKey(keyPrefix, key);
    if (pair === undefined) return null;
    return readRecord(await run(scripts.get, [key], [nowArgument(now)]), pair, "list");
  }

  return async function list(request) {
    const limit = request.limit ?? 100;
    if (!(Number.isInteger(limit) && limit >= 1)) {
      throw new SessionError({
        code: "INVALID_OPTION",
        source,
        message: `limit must be a whole number ≥ 1, got ${limit}.`,
      });
    }
    const pattern = sessionKeyPattern(keyPrefix, request.namespace);
    const targets = await bounded(() => transport.scanTargets(), "list", timeoutMs);
    const sessions: SessionRecord[] = [];
    let position = decodeCursor(request.cursor);

    for (let step = 0; step < MAX_SCAN_STEPS; step++) {
      const target = targets[position.node];
      if (target === undefined) return { sessions };
      const [next, keys] = await bounded(() => target.scan(position.scan, pattern, SCAN_COUNT), "list", timeoutMs);
      const after = position.after;
      const pending = (after === undefined ? keys : keys.filter((key) => key > after)).sort();
      for (let start = 0; start < pending.length; ) {
        const chunk = pending.slice(start, start + limit - sessions.length);
        start += chunk.length;
        const records = await Promise.all(chunk.map((key) => fetch(key, request.now)));
        for (let index = 0; index < records.length; index++) {
          const record = records[index];
          if (record === null || record === undefined) continue;
          sessions.push(record);
          if (sessions.length === limit) {
            return { sessions, cursor: encodeCursor({ ...position, after: chunk[index] }) };
          }
        }
      }
      position =
        next === "0"
          ? { node: position.node + 1, scan: "0", after: undefined }
          : { ...position, scan: next, after: undefined };
    }
    return targets[position.node] === undefined ? { sessions } : { sessions, cursor: encodeCursor(position) };
  };
}

function encodeCursor(position: Position): string {
  return JSON.stringify(
    position.after === undefined ? [position.node, position.scan] : [position.node, position.scan, position.after],
  );
}

function decodeCursor(cursor: string | undefined): Position {
  if (cursor === undefined) return { node: 0, scan: "0", after: undefined };
  let parsed: unknown;
  try {
    parsed = JSON.parse(cursor);
  } catch {
    parsed = undefined;
  }
  if (
    Array.isArray(parsed) &&
    Number.isInteger(parsed[0]) &&
    parsed[0] >= 0 &&
    typeof parsed[1] === "string" &&
    (parsed.length === 2 || (parsed.length === 3 && typeof parsed[2] === "string"))
  ) {
    return { node: parsed[0] as number, scan: parsed[1], after: parsed[2] as string | undefined };
  }
  throw new SessionError({
    code: "INVALID_OPTION",
    source,
    message: "cursor is not one this store returned. Pass back the cursor of the previous page unchanged.",
  });
}
