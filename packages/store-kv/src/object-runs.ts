import type { RunRecord, SessionTotals } from "@threadline/session-core";
import { emptyTotals, totalsWithRun } from "@threadline/session-core/store-kit";
import type { DurableObjectStorageLike } from "./bindings.js";
import { StorageBatch } from "./object-items.js";

// A session's run records in its pair object's storage, laid out so that keeping one costs the
// same storage calls however many the session holds:
//
//   run:{session sequence}:{n}        the n-th run of the session (1, 2, …): [run key, JSON text]
//   runid:{session sequence}:{run key} n, for the idempotency check by run id
//
// and a small record (`RunsMeta`: the totals and the oldest n kept) in the session's value while it
// is live, then in its history entry. Keys carry the session's sequence, so an ended session's runs
// stay where they are when its history entry takes them over: nothing is copied at the end.

/** Where a session's runs are: kept in the session's value, then in its history entry. */
export interface RunsMeta {
  /** Every run kept so far, the dropped ones included; the newest run is number `totals.runs`. */
  totals: SessionTotals;
  /** Number of the oldest run still kept (`totals.runs + 1` when none is). */
  head: number;
}

/** A run record as stored: the key of its run id (to drop that with it) and its JSON text. */
type StoredRun = [runKey: string, text: string];

const RUN_PREFIX = "run:";
const RUN_ID_PREFIX = "runid:";

/** What keeping one run decided: the new record and the writes, or nothing to do (a run already kept). */
export type PlannedRun = { meta: RunsMeta; batch: StorageBatch } | { meta: RunsMeta; batch: null };

/**
 * Plans keeping `record` (encoded as `text`) as the next run of the session `sequence`: one read
 * (its run id), plus one of the oldest runs when the bound drops them. Reads first, then decides;
 * the runtime delivers no other request to the object while it reads (its input gate).
 */
export async function planRun(
  storage: DurableObjectStorageLike,
  sequence: number,
  meta: RunsMeta | undefined,
  run: { record: RunRecord; text: string; runKey: string },
  maxRuns: number,
): Promise<PlannedRun> {
  const current = meta ?? { totals: emptyTotals(), head: 1 };
  const tail = current.totals.runs + 1; // this run's number
  // Runs to drop so that at most maxRuns stay with this one (more than one when maxRuns shrank).
  const excess = Math.max(0, tail - current.head + 1 - maxRuns);
  const [known, oldest] = await Promise.all([
    storage.get<number>(runIdKey(sequence, run.runKey)),
    excess > 0
      ? storage.list<StoredRun>({
          prefix: runPrefix(sequence),
          start: runKey(sequence, current.head),
          end: runKey(sequence, current.head + excess),
        })
      : undefined,
  ]);
  if (known !== undefined) return { meta: current, batch: null };
  const batch = new StorageBatch();
  for (const [key, [droppedRunKey]] of oldest ?? []) {
    batch.delete(key);
    batch.delete(runIdKey(sequence, droppedRunKey));
  }
  batch.put(runKey(sequence, tail), [run.runKey, run.text] satisfies StoredRun);
  batch.put(runIdKey(sequence, run.runKey), tail);
  return { meta: { totals: totalsWithRun(current.totals, run.record), head: current.head + excess }, batch };
}

/**
 * Up to `limit` JSON texts of the session's runs numbered after `after`, oldest first: one storage
 * list of that many keys. `next` is the number of the last one when more follow.
 */
export async function readRuns(
  storage: DurableObjectStorageLike,
  sequence: number,
  meta: RunsMeta | undefined,
  after: number,
  limit: number,
): Promise<{ texts: string[]; next: number | null }> {
  if (meta === undefined) return { texts: [], next: null };
  const from = Math.max(meta.head, after + 1);
  const to = Math.min(meta.totals.runs, from + limit - 1); // inclusive
  if (from > to) return { texts: [], next: null };
  const stored = await storage.list<StoredRun>({
    prefix: runPrefix(sequence),
    start: runKey(sequence, from),
    end: runKey(sequence, to + 1),
  });
  const texts = [...stored.values()].map(([, text]) => text);
  return { texts, next: to < meta.totals.runs ? to : null };
}

/**
 * Plans deleting every run of the session `sequence`: its records by their known numbers, its run
 * ids by one storage list (none when it keeps no run).
 */
export async function planRunsDrop(
  storage: DurableObjectStorageLike,
  sequence: number,
  meta: RunsMeta,
): Promise<StorageBatch> {
  const batch = new StorageBatch();
  if (meta.head > meta.totals.runs) return batch;
  for (let n = meta.head; n <= meta.totals.runs; n++) batch.delete(runKey(sequence, n));
  for (const key of (await storage.list({ prefix: `${RUN_ID_PREFIX}${pad(sequence)}:` })).keys()) batch.delete(key);
  return batch;
}

function runPrefix(sequence: number): string {
  return `${RUN_PREFIX}${pad(sequence)}:`;
}

function runKey(sequence: number, n: number): string {
  return `${runPrefix(sequence)}${pad(n)}`;
}

function runIdKey(sequence: number, key: string): string {
  return `${RUN_ID_PREFIX}${pad(sequence)}:${key}`;
}

function pad(position: number): string {
  return String(position).padStart(12, "0");
}
