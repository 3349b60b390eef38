import {
  type ListPage,
  type ListRequest,
  SessionError,
  type SessionKey,
  type SessionRecord,
  type SessionSummary,
} from "@threadline/session-core";
import { activeSummary, endedSummary, resumeIndex, userSessionsPage } from "@threadline/session-core/store-kit";
import type { ScanTarget, ScriptTransport } from "./client.js";
import { source, toSessionError, unexpectedReply } from "./failures.js";
import { pairKeys, sessionKeyParser, sessionKeyPattern } from "./keys.js";
import { readHistoryEntry, readRecord, readServerTime } from "./replies.js";
import type { Runner } from "./script-runner.js";

/**
 * Where a listing stands: which master (by position), the SCAN cursor to continue that master
 * with (`null` once its SCAN has finished), keys already scanned but not yet read, and, when the
 * first of them had more sessions than the page had room for, the last of its sessions returned
 * (creation time and id; the next page continues with the older ones).
 */
interface Position {
  node: number;
  scan: string | null;
  pending: string[];
  within?: [number, string];
}

// What listing reads of a session hash: `readRecord`'s six fields, then the deadline and the run
// totals (the end marker's `timeout`, 0 on a tombstone, is already among them).
const RECORD_FIELDS = ["id", "created", "last", "timeout", "turns", "prev", "dl", "tot"];

/**
 * The summaries of one pair, newest first, with the asked status: its live session, its expired
 * session nobody claimed yet (listed as ended by time while `retentionMs` keeps it), and the ended
 * sessions of its history still within their retention, in the order they were claimed (creation
 * times alone cannot order sessions created in one millisecond). `record` is an HMGET of RECORD_FIELDS.
 */
function pairSummaries(
  pair: SessionKey,
  record: unknown,
  history: unknown,
  at: number,
  status: "active" | "ended" | "all",
  retentionMs: number,
): SessionSummary[] {
  const summaries: SessionSummary[] = [];
  if (!Array.isArray(record) || record.length !== RECORD_FIELDS.length) throw unexpectedReply("list", record);
  if (record[0] !== null && record[0] !== undefined && String(record[3]) !== "0") {
    const session = readRecord([...record.slice(0, 6), record[7]], pair, "list") as SessionRecord;
    if (at < session.expiresAt) {
      if (status !== "ended") summaries.push(activeSummary(session));
    } else if (status !== "active" && at < session.expiresAt + retentionMs) {
      const deadline = record[6] === null || record[6] === undefined ? undefined : Number(record[6]);
      const reason = deadline !== undefined && session.expiresAt >= deadline ? "max-duration" : "expired";
      summaries.push(endedSummary({ session, reason, endedAt: session.expiresAt }));
    }
  }
  if (status !== "active") {
    if (!Array.isArray(history)) throw unexpectedReply("list", history);
    for (const entry of history) {
      const stored = readHistoryEntry(entry, pair, "list");
      if (at < stored.keepUntil) summaries.push(endedSummary(stored.end));
    }
  }
  return summaries;
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
  const sessionHead = `${keyPrefix}s:`;
  const historyHead = `${keyPrefix}h:`;

  /**
   * Reads the pairs of `keys` in one pipeline (their hash, and their history unless only live
   * sessions are asked for) and returns each pair's summaries, in the order of `keys`.
   */
  async function read(
    target: ScanTarget,
    keys: string[],
    request: ListRequest,
    status: "active" | "ended" | "all",
  ): Promise<SessionSummary[][]> {
    const serverClock = nowArgument(request.now) === "";
    const withHistory = status !== "active";
    const commands: string[][] = serverClock ? [["TIME"]] : [];
    for (const key of keys) {
      commands.push(["HMGET", key, ...RECORD_FIELDS]);
      // Every key here matched the session key pattern (SCAN, or a cursor checked by decodeCursor).
      if (withHistory) commands.push(["LRANGE", historyHead + key.slice(sessionHead.length), "0", "-1"]);
    }
    const replies = await runner.bounded(() => target.pipeline(commands), "list");
    const refused = replies.find((reply) => reply instanceof Error);
    if (refused !== undefined) throw toSessionError(refused, "list");
    const at = serverClock ? readServerTime(replies[0], "list") : Math.floor(request.now);
    const offset = serverClock ? 1 : 0;
    const stride = withHistory ? 2 : 1;
    const retentionMs = request.retentionMs ?? 0;
    return keys.map((key, index) => {
      const record = replies[offset + index * stride];
      // Gone since the SCAN, or not a session: nil id and no history.
      const pair = parseKey(key);
      if (pair === undefined) return [];
      const history = withHistory ? replies[offset + index * stride + 1] : undefined;
      return pairSummaries(pair, record, history, at, status, retentionMs);
    });
  }

  /** One user's sessions: the hash and the history in one MULTI/EXEC (same slot), newest first. */
  async function listUser(request: ListRequest, namespace: string, userId: string): Promise<ListPage> {
    const status = request.status ?? "active";
    const keys = pairKeys(keyPrefix, namespace, userId);
    const serverClock = nowArgument(request.now) === "";
    const replies = await runner.transaction("list", keys.session, () => [
      ...(serverClock ? [["TIME"]] : []),
      ["HMGET", keys.session, ...RECORD_FIELDS],
      ...(status === "active" ? [] : [["LRANGE", keys.history, "0", "-1"]]),
    ]);
    const at = serverClock ? readServerTime(replies[0], "list") : Math.floor(request.now);
    const offset = serverClock ? 1 : 0;
    const summaries = pairSummaries(
      { namespace, userId },
      replies[offset],
      replies[offset + 1],
      at,
      status,
      request.retentionMs ?? 0,
    );
    return userSessionsPage(summaries, request, source);
  }

  return async function list(request) {
    const status = request.status ?? "active";
    if (status !== "active" && status !== "ended" && status !== "all") {
      throw new SessionError({
        code: "INVALID_OPTION",
        source,
        message: `status must be "active", "ended" or "all", got ${JSON.stringify(status)}.`,
      });
    }
    if (request.userId !== undefined) {
      if (request.namespace === undefined) return userSessionsPage([], request, source);
      return listUser(request, request.namespace, request.userId);
    }
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
    const sessions: SessionSummary[] = [];
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
      // Each key gives at most one live session, so `room` keys can fill the page; with history a
      // key may give many, and the page may end inside one (its cursor then says where).
      const taken = keys.slice(0, room);
      const rest = keys.slice(room);
      const perKey = taken.length > 0 ? await read(target, taken, request, status) : [];
      for (let index = 0; index < taken.length; index++) {
        let summaries = perKey[index] as SessionSummary[];
        const within = index === 0 ? position.within : undefined;
        if (within !== undefined) summaries = summaries.slice(resumeIndex(summaries, within));
        if (sessions.length + summaries.length > limit) {
          const fits = limit - sessions.length;
          for (let next = 0; next < fits; next++) sessions.push(summaries[next] as SessionSummary);
          const last = sessions[sessions.length - 1] as SessionSummary;
          const pending = keys.slice(index);
          const resume: Position = { node: position.node, scan, pending };
          if (fits > 0) resume.within = [last.createdAt, last.sessionId];
          else if (within !== undefined) resume.within = within;
          return { sessions, cursor: encodeCursor(resume) };
        }
        for (const summary of summaries) sessions.push(summary);
      }
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
  const { node, scan, pending, within } = position;
  return JSON.stringify(within === undefined ? [node, scan, pending] : [node, scan, pending, ...within]);
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
  const within =
    Array.isArray(parsed) && parsed.length === 5 && Number.isFinite(parsed[3]) && typeof parsed[4] === "string"
      ? ([parsed[3], parsed[4]] as [number, string])
      : undefined;
  if (
    Array.isArray(parsed) &&
    (parsed.length === 3 || (within !== undefined && Array.isArray(parsed[2]) && parsed[2].length > 0)) &&
    Number.isInteger(parsed[0]) &&
    parsed[0] >= 0 &&
    (parsed[1] === null || (typeof parsed[1] === "string" && /^\d{1,20}$/.test(parsed[1]))) &&
    Array.isArray(parsed[2]) &&
    parsed[2].length <= MAX_PENDING &&
    parsed[2].every(ours)
  ) {
    const position: Position = {
      node: parsed[0] as number,
      scan: parsed[1] as string | null,
      pending: parsed[2] as string[],
    };
    if (within !== undefined) position.within = within;
    return position;
  }
  throw new SessionError({
    code: "INVALID_OPTION",
    source,
    message:
      "cursor is not one this store returned for this listing. Pass back the cursor of the previous page unchanged, with the same namespace.",
  });
}
