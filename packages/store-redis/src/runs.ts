import { type RunRecord, SessionError, type SessionRunStore } from "@threadline/session-core";
import {
  emptyTotals,
  encodeItems,
  invalidCursor,
  listLimit,
  sessionEndedError,
  totalsWithRun,
} from "@threadline/session-core/store-kit";
import { source, unexpectedReply } from "./failures.js";
import { pairKeys, runsKey } from "./keys.js";
import { readTotals } from "./replies.js";
import type { Runner } from "./script-runner.js";
import { scripts } from "./scripts.js";

export interface RunStoreOptions {
  runner: Runner;
  keyPrefix: string;
  nowArgument: (now: number) => string;
}

/** A number as the scripts add it: decimal text, 0 for anything not finite. */
const amount = (value: number) => (Number.isFinite(value) ? String(value) : "0");

/**
 * Run records in one hash per session beside the session hash, under the pair's hash tag (same
 * Cluster slot); see scripts.ts for its fields. `add` is one script: it checks the session (live,
 * or ended and still in history), keeps the record once per run id, drops the oldest beyond
 * `maxRuns` and adds the run to the totals, which the caller computed (`totalsWithRun` of the
 * store kit), so the script only adds. The records go with the session: into its history entry's
 * keeping when it ends, deleted by `forget`, gone with the entry.
 */
export function redisRunStore(options: RunStoreOptions): SessionRunStore {
  const { runner, keyPrefix, nowArgument } = options;
  const keysOf = (request: { namespace: string; userId: string; sessionId: string }) => {
    const keys = pairKeys(keyPrefix, request.namespace, request.userId);
    return [keys.session, runsKey(keyPrefix, keys.tag, request.sessionId), keys.history];
  };

  return {
    async add(request, record) {
      const [text] = encodeItems([record], source) as [string];
      const { maxRuns } = request;
      if (!(maxRuns >= 0) || (Number.isFinite(maxRuns) && !Number.isInteger(maxRuns))) {
        throw new SessionError({
          code: "INVALID_OPTION",
          source,
          message: `maxRuns must be a whole number ≥ 0 (or Infinity), got ${String(maxRuns)}.`,
        });
      }
      const run = totalsWithRun(emptyTotals(), record);
      const increments = [
        run.runs,
        run.inputTokens,
        run.outputTokens,
        run.totalTokens,
        run.toolCalls,
        run.handoffs,
        run.errors,
      ]
        .map(amount)
        .join(" ");
      const reply = await runner.script(scripts.addRun, keysOf(request), [
        nowArgument(request.now),
        request.sessionId,
        Number.isFinite(maxRuns) ? String(maxRuns) : "",
        record.runId,
        text,
        increments,
        run.lastAgent === undefined ? "" : `=${run.lastAgent}`,
      ]);
      const name = scripts.addRun.name;
      if (!Array.isArray(reply) || reply.length === 0) throw unexpectedReply(name, reply);
      if (String(reply[0]) === "ended") throw sessionEndedError(source, request.sessionId);
      if (String(reply[0]) !== "ok" || reply.length !== 2) throw unexpectedReply(name, reply);
      return readTotals(reply[1], name, reply);
    },

    async list(request, page) {
      const limit = listLimit(page?.limit, source);
      let after = 0;
      if (page?.cursor !== undefined) {
        after = Number(page.cursor);
        if (!Number.isSafeInteger(after) || after < 0 || String(after) !== page.cursor) throw invalidCursor(source);
      }
      const name = scripts.listRuns.name;
      const reply = await runner.script(scripts.listRuns, keysOf(request).slice(0, 2), [
        nowArgument(request.now),
        request.sessionId,
        String(after),
        String(Math.min(limit, 2 ** 32)),
      ]);
      if (!Array.isArray(reply) || reply.length === 1) throw unexpectedReply(name, reply);
      if (reply.length === 0) return { records: [] };
      const runs = Number(reply[0]);
      const last = Number(reply[1]);
      if (!Number.isSafeInteger(runs) || !Number.isSafeInteger(last)) throw unexpectedReply(name, reply);
      const records = reply.slice(2).map((stored) => {
        const text =
          typeof stored === "string"
            ? stored
            : stored instanceof Uint8Array
              ? new TextDecoder().decode(stored)
              : undefined;
        if (text === undefined) throw unexpectedReply(name, reply);
        return JSON.parse(text) as RunRecord;
      });
      return last < runs && records.length > 0 ? { records, cursor: String(last) } : { records };
    },
  };
}
