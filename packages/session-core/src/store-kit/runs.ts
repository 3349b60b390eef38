import type { RunRecord } from "../run-record.js";
import type { RunsPage, SessionTotals } from "../store.js";
import { invalidCursor, listLimit } from "./history.js";

/**
 * A session's run records as a store written in TypeScript keeps them: JSON text with a sequence
 * number each (the run's position among all the session's runs, so a page cursor survives the
 * oldest records being dropped), the run ids kept, and the totals. Plain data.
 */
export interface StoredRuns {
  /** `[sequence, JSON text]`, oldest first. */
  records: Array<[number, string]>;
  runIds: string[];
  totals: SessionTotals;
}

/** Totals before any run. */
export function emptyTotals(): SessionTotals {
  return { runs: 0, inputTokens: 0, outputTokens: 0, totalTokens: 0, toolCalls: 0, handoffs: 0, errors: 0 };
}

/** `totals` with one more run. */
export function totalsWithRun(totals: SessionTotals, record: RunRecord): SessionTotals {
  const next: SessionTotals = {
    runs: totals.runs + 1,
    inputTokens: totals.inputTokens + (record.usage?.inputTokens ?? 0),
    outputTokens: totals.outputTokens + (record.usage?.outputTokens ?? 0),
    totalTokens: totals.totalTokens + (record.usage?.totalTokens ?? 0),
    toolCalls: totals.toolCalls + record.toolCalls.length,
    handoffs: totals.handoffs + record.handoffs.length,
    errors: totals.errors + (record.error === undefined ? 0 : 1),
  };
  const lastAgent = record.finalAgent ?? record.agents.at(-1) ?? totals.lastAgent;
  if (lastAgent !== undefined) next.lastAgent = lastAgent;
  return next;
}

/**
 * Keeps `record` (already encoded as `text`) in `runs`, at most `maxRuns`, oldest dropped first.
 * Returns the new state, or `runs` itself when the run was kept before (idempotent by run id).
 */
export function runsWith(runs: StoredRuns | undefined, record: RunRecord, text: string, maxRuns: number): StoredRuns {
  const current = runs ?? { records: [], runIds: [], totals: emptyTotals() };
  if (current.runIds.includes(record.runId)) return current;
  const totals = totalsWithRun(current.totals, record);
  const records: Array<[number, string]> = [...current.records, [totals.runs, text]];
  const runIds = [...current.runIds, record.runId];
  while (records.length > maxRuns) {
    records.shift();
    runIds.shift();
  }
  return { records, runIds, totals };
}

/** One page of stored runs, oldest first, after the cursor's sequence number. */
export function runsPage(
  runs: StoredRuns | undefined,
  page: { cursor?: string; limit?: number } | undefined,
  source: string,
): RunsPage {
  const limit = listLimit(page?.limit, source);
  let after = 0;
  if (page?.cursor !== undefined) {
    after = Number(page.cursor);
    if (!Number.isSafeInteger(after) || after < 0 || String(after) !== page.cursor) throw invalidCursor(source);
  }
  const kept = (runs?.records ?? []).filter(([sequence]) => sequence > after);
  const selected = kept.slice(0, limit);
  const records = selected.map(([, text]) => JSON.parse(text) as RunRecord);
  const last = selected.at(-1);
  return kept.length > limit && last !== undefined ? { records, cursor: String(last[0]) } : { records };
}
