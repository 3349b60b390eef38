import type { SessionEndEvent, SweepRequest } from "@threadline/session-core";
import type { ScanTarget, ScriptTransport } from "./client.js";
import { toSessionError, unexpectedReply } from "./failures.js";
import { keysOfTag, parseHashTag, type SlotKeyring } from "./keys.js";
import { END_FIELDS, endAt, readServerTime } from "./replies.js";
import type { Runner } from "./script-runner.js";
import { scripts } from "./scripts.js";

export interface SweeperOptions {
  transport: ScriptTransport;
  runner: Runner;
  keyPrefix: string;
  nowArgument: (now: number) => string;
  slots: SlotKeyring;
  /** Index entries per claim script call. */
  batchSize: number;
}

// Index reads per pipeline on a cluster (one per slot the master owns).
const READS_PER_PIPELINE = 1024;
// A slot whose reads keep coming back full this many times in one sweep waits for the next one
// (only a clock that runs backwards could keep re-scored entries due).
const MAX_ROUNDS_PER_INDEX = 10_000;

/**
 * The store's `sweep`: reads the expiry index entries due at `now` and claims them in batches,
 * one script call per batch, all in the batch's slot. On a single node that is one index; on a
 * cluster one per slot, read master by master in pipelines (a fixed 16,384 cheap reads per
 * sweep), with claims only for the slots that have entries due.
 */
export function createSweeper(options: SweeperOptions): (request: SweepRequest) => Promise<SessionEndEvent[]> {
  const { transport, runner, keyPrefix, nowArgument, slots, batchSize } = options;
  const limit = String(batchSize);

  /** Claims the entries `tags` of index `index`; returns the ends claimed. */
  async function claim(index: string, tags: string[], request: SweepRequest): Promise<SessionEndEvent[]> {
    const keys = [index];
    for (const tag of tags) {
      const pair = keysOfTag(keyPrefix, tag);
      keys.push(pair.session, pair.items, pair.operations, pair.history);
    }
    const carryOverMs = request.carryOverMs ?? 0;
    const reply = await runner.script(scripts.sweep, keys, [
      nowArgument(request.now),
      String(request.retentionMs),
      String(Number.isFinite(carryOverMs) && carryOverMs > 0 ? Math.floor(carryOverMs) : 0),
      ...tags,
    ]);
    if (!Array.isArray(reply) || reply.length % (END_FIELDS + 1) !== 0) throw unexpectedReply("sweep", reply);
    const ends: SessionEndEvent[] = [];
    for (let offset = 0; offset < reply.length; offset += END_FIELDS + 1) {
      const pair = parseHashTag(String(reply[offset]));
      if (pair === undefined) throw unexpectedReply("sweep", reply);
      ends.push(endAt(reply, offset + 1, pair, "sweep"));
    }
    return ends;
  }

  /**
   * Reads the entries of `indexes` due at `now` on `target`. On a cluster, one script per chunk
   * reads every index of the chunk on the master itself (a script without declared keys may read
   * any key the node serves), so a sweep costs a few calls per master instead of one reply per slot
   * for the client to handle; if the script fails (a slot moved mid-sweep), the chunk falls back to
   * one ZRANGEBYSCORE each, pipelined.
   */
  async function due(target: ScanTarget, indexes: string[], now: number): Promise<Array<string[] | undefined>> {
    const max = String(Math.floor(now));
    if (slots.cluster) {
      const [reply] = await runner.bounded(
        () => target.pipeline([["EVAL", dueInIndexes, "0", max, limit, ...indexes]]),
        "sweep",
      );
      const found = readDueReply(reply, indexes);
      if (found !== undefined) return found;
    }
    const replies = await runner.bounded(
      () => target.pipeline(indexes.map((index) => ["ZRANGEBYSCORE", index, "-inf", max, "LIMIT", "0", limit])),
      "sweep",
    );
    // A slot that moved to another master mid-sweep answers MOVED: its new owner's turn comes next sweep.
    return replies.map((reply) => (Array.isArray(reply) ? reply.map(String) : undefined));
  }

  /** The time the index reads compare with: the manager's, or this master's clock. */
  async function nowOn(target: ScanTarget, request: SweepRequest): Promise<number> {
    if (nowArgument(request.now) !== "") return request.now;
    const [reply] = await runner.bounded(() => target.pipeline([["TIME"]]), "sweep");
    if (reply instanceof Error) throw toSessionError(reply, "sweep");
    return readServerTime(reply, "sweep");
  }

  /** Claims everything due in `indexes` of one master. */
  async function sweepTarget(target: ScanTarget, indexes: string[], request: SweepRequest): Promise<SessionEndEvent[]> {
    const ends: SessionEndEvent[] = [];
    const now = await nowOn(target, request);
    for (let first = 0; first < indexes.length; first += READS_PER_PIPELINE) {
      let pending = indexes.slice(first, first + READS_PER_PIPELINE);
      for (let round = 0; pending.length > 0 && round < MAX_ROUNDS_PER_INDEX; round++) {
        const replies = await due(target, pending, now);
        const full: string[] = [];
        const claims: Array<Promise<SessionEndEvent[]>> = [];
        pending.forEach((index, position) => {
          const tags = replies[position];
          if (tags === undefined || tags.length === 0) return;
          claims.push(claim(index, tags, request));
          if (tags.length === batchSize) full.push(index);
        });
        for (const claimed of await Promise.all(claims)) ends.push(...claimed);
        pending = full;
      }
    }
    return ends;
  }

  return async function sweep(request) {
    const targets = await runner.bounded(() => transport.scanTargets(), "sweep");
    if (!slots.cluster) {
      const target = targets[0];
      return target === undefined ? [] : sweepTarget(target, [slots.ofSlot(0).index], request);
    }
    const perTarget = await Promise.all(
      targets.map(async (target) => {
        const owned = await ownSlots(target, runner);
        return sweepTarget(
          target,
          owned.map((slot) => slots.ofSlot(slot).index),
          request,
        );
      }),
    );
    return perTarget.flat();
  };
}

// ARGV: max score, limit, index keys…. Returns {position, tag, tag, …, 0, position, …}: for each
// index with entries due, its 1-based position in ARGV's index list, its tags, then a 0.
const dueInIndexes = `
local found = {}
for position = 3, #ARGV do
  local tags = redis.call('ZRANGEBYSCORE', ARGV[position], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
  if #tags > 0 then
    found[#found + 1] = position - 2
    for _, tag in ipairs(tags) do found[#found + 1] = tag end
    found[#found + 1] = 0
  end
end
return found
`;

/** The due tags per index from the script's reply, or `undefined` when the script failed. */
function readDueReply(reply: unknown, indexes: string[]): Array<string[] | undefined> | undefined {
  if (!Array.isArray(reply)) return undefined;
  const found: Array<string[] | undefined> = indexes.map(() => []);
  let current: string[] | undefined;
  for (const value of reply) {
    if (current === undefined) {
      const position = Number(value);
      if (!Number.isInteger(position) || position < 1 || position > indexes.length) return undefined;
      current = [];
      found[position - 1] = current;
    } else if (value === 0 || value === "0") {
      current = undefined;
    } else {
      current.push(String(value));
    }
  }
  return found;
}

/** The slots a cluster master serves, from the `myself` line of its `CLUSTER NODES`. */
async function ownSlots(target: ScanTarget, runner: Runner): Promise<number[]> {
  const [reply] = await runner.bounded(() => target.pipeline([["CLUSTER", "NODES"]]), "sweep");
  if (reply instanceof Error) throw toSessionError(reply, "sweep");
  const text = typeof reply === "string" ? reply : reply instanceof Uint8Array ? new TextDecoder().decode(reply) : "";
  const line = text.split("\n").find((candidate) => (candidate.split(" ")[2] ?? "").split(",").includes("myself"));
  if (line === undefined) throw unexpectedReply("sweep", reply);
  const owned: number[] = [];
  // Fields 9 on are slots ("5461") and ranges ("0-5460"); bracketed ones are slots being migrated.
  for (const field of line.trim().split(" ").slice(8)) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(field);
    if (match === null) continue;
    const from = Number(match[1]);
    const to = match[2] === undefined ? from : Number(match[2]);
    for (let slot = from; slot <= to; slot++) owned.push(slot);
  }
  return owned;
}
