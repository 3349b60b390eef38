import { type ListPage, type ListRequest, SessionError, type SessionRecord } from "@threadline/session-core";
import type { ScanTarget, ScriptTransport } from "./client.js";
import { source, toSessionError } from "./failures.js";
import { sessionKeyParser, sessionKeyPattern } from "./keys.js";
import { readRecord, readServerTime } from "./replies.js";
import type { Runner } from "./script-runner.js";

/**
 * Where a listing stands: which master (by position), the SCAN cursor to continue that master
 * with (`null` once its SCAN has finished), and keys already scanned but not yet read.
 */
interface Position {
  node: number;
  scan: string | null;
  pending: string[];
}

// SCAN calls one page may make before it returns what it has (maybe nothing) with a cursor,
// so a page over a large keyspace with few matches still answers in bounded time.
const MAX_SCAN_STEPS = 50;
// SCAN asks for a quarter more keys than the page has room for, within these bounds: SCAN
// returns about COUNT keys, often fewer, and a batch short of the room would cost the page a
// second SCAN and pipeline for a handful of keys. What a batch has beyond the room waits in the
// cursor for the next page. When other keys share the keyspace, only some of those SCAN visits
// match: a page then scales COUNT by the share its earlier steps matched, so it still needs about
// one SCAN per batch of the room (a fixed COUNT took four or five SCAN steps and pipelines per
// page when half the keys were another namespace's).
const SCAN_OVERSAMPLING = 1.25;
const MIN_SCAN_COUNT = 10;
const MAX_SCAN_COUNT = 1_000;
// A cursor never holds more pending keys than a SCAN step returns; this bounds what we accept.
const MAX_PENDING = 100_000;

export interface ListerOptions {
  transport: ScriptTransport;
  runner: Runner;
  keyPrefix: string;
  nowArgument: (now: number) => string;
}

/**
 * Lists live sessions with SCAN (never KEYS), master by master on a cluster. Each step is one
 * SCAN and one pipeline of `HMGET`s to the same master (with `TIME` first when the server's clock
 * decides): two round trips per batch, liveness decided here with the scripts' rule. A SCAN batch
 * can hold more sessions than the page has room for; the cursor then carries the keys not yet
 * read, so the next page starts with them and never repeats a SCAN step. Pages hold at most
 * `limit` sessions. As with SCAN itself, a session present for the whole listing is returned at
 * least once; one created or ended meanwhile may or may not be.
 */
export function createLister(options: ListerOptions): (request: ListRequest) => Promise<ListPage> {
  const { transport, runner, keyPrefix, nowArgument } = options;
  const parseKey = sessionKeyParser(keyPrefix);

  /** Reads the records of `keys` in one pipeline and keeps the live ones. */
  async function read(target: ScanTarget, keys: string[], now: number, sessions: SessionRecord[]): Promise<void> {
    const serverClock = nowArgument(now) === "";
    const commands = keys.map((key) => ["HMGET", key, "id", "created", "last", "timeout"]);
    if (serverClock) commands.unshift(["TIME"]);
    const replies = await runner.bounded(() => target.pipeline(commands), "list");
    const refused = replies.find((reply) => reply instanceof Error);
    if (refused !== undefined) throw toSessionError(refused, "list");
    const at = serverClock ? readServerTime(replies[0], "list") : Math.floor(now);
    const offset = serverClock ? 1 : 0;
    for (let index = 0; index < keys.length; index++) {
      const reply = replies[index + offset];
      // Gone since the SCAN, or not a session: nil id.
      if (!Array.isArray(reply) || reply[0] === null || reply[0] === undefined) continue;
      const pair = parseKey(keys[index] as string);
      if (pair === undefined) continue;
      const record = readRecord(reply, pair, "list");
      if (record !== null && at < record.expiresAt) sessions.push(record);
    }
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
    let position = decodeCursor(request.cursor, parseKey, request.namespace);
    const targets = await runner.bounded(() => transport.scanTargets(), "list");
    const sessions: SessionRecord[] = [];
    // COUNT asked and keys returned by this page's SCAN steps: the share of the keyspace that matches.
    let asked = 0;
    let matched = 0;

    for (let step = 0; step < MAX_SCAN_STEPS; step++) {
      const target = targets[position.node];
      if (target === undefined) return { sessions };
      const room = limit - sessions.length;
      let keys = position.pending;
      let scan = position.scan;
      if (keys.length < room && scan !== null) {
        const share = asked === 0 ? 1 : Math.max(matched, 1) / asked;
        const wanted = Math.ceil(((room - keys.length) * SCAN_OVERSAMPLING) / Math.min(1, share));
        const count = Math.min(MAX_SCAN_COUNT, Math.max(MIN_SCAN_COUNT, wanted));
        const cursor = scan;
        const [next, batch] = await runner.bounded(() => target.scan(cursor, pattern, count), "list");
        asked += count;
        matched += batch.length;
        keys = keys.length === 0 ? batch : keys.concat(batch);
        scan = next === "0" ? null : next;
      }
      if (keys.length > 0) await read(target, keys.slice(0, room), request.now, sessions);
      const rest = keys.slice(room);
      position =
        rest.length === 0 && scan === null
          ? { node: position.node + 1, scan: "0", pending: [] }
          : { node: position.node, scan, pending: rest };
      if (sessions.length === limit) break;
    }
    return targets[position.node] === undefined ? { sessions } : { sessions, cursor: encodeCursor(position) };
  };
}

function encodeCursor(position: Position): string {
  return JSON.stringify([position.node, position.scan, position.pending]);
}

function decodeCursor(
  cursor: string | undefined,
  parseKey: ReturnType<typeof sessionKeyParser>,
  namespace: string | undefined,
): Position {
  if (cursor === undefined) return { node: 0, scan: "0", pending: [] };
  let parsed: unknown;
  try {
    parsed = JSON.parse(cursor);
  } catch {
    parsed = undefined;
  }
  // Pending keys are read as they are, so only keys of this listing pass: session keys under
  // this prefix (and of the namespace asked for), never an arbitrary key a caller made up.
  const ours = (key: unknown) => {
    if (typeof key !== "string") return false;
    const pair = parseKey(key);
    return pair !== undefined && (namespace === undefined || pair.namespace === namespace);
  };
  if (
    Array.isArray(parsed) &&
    parsed.length === 3 &&
    Number.isInteger(parsed[0]) &&
    parsed[0] >= 0 &&
    (parsed[1] === null || (typeof parsed[1] === "string" && /^\d{1,20}$/.test(parsed[1]))) &&
    Array.isArray(parsed[2]) &&
    parsed[2].length <= MAX_PENDING &&
    parsed[2].every(ours)
  ) {
    return { node: parsed[0] as number, scan: parsed[1] as string | null, pending: parsed[2] as string[] };
  }
  throw new SessionError({
    code: "INVALID_OPTION",
    source,
    message:
      "cursor is not one this store returned for this listing. Pass back the cursor of the previous page unchanged, with the same namespace.",
  });
}
