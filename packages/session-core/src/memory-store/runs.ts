import { encodeItems } from "../items.js";
import type { ItemsRequest, SessionRunStore, SessionTotals } from "../store.js";
import type { HistoryEntry } from "../store-kit/history.js";
import { runsPage, runsWith, type StoredRuns } from "../store-kit/runs.js";
import { sessionEndedError } from "../store-kit/store-errors.js";
import { type Entry, isLive } from "./entry.js";

const source = "memory";

/** Where a session's runs live: on its entry while live, on its history entry once ended. */
interface RunsHolder {
  runs: StoredRuns | undefined;
  /** The record whose totals follow the runs (the history entry's copy of the session). */
  session?: { totals?: SessionTotals };
}

/** Run records kept on the entry of their session, then on its history entry. */
export function entryRuns(find: (namespace: string, userId: string) => Entry | undefined): SessionRunStore {
  function holder(request: ItemsRequest): RunsHolder | undefined {
    const entry = find(request.namespace, request.userId);
    if (entry === undefined) return undefined;
    if (isLive(entry, request.now) && entry.sessionId === request.sessionId) {
      entry.kept ??= {};
      const kept = entry.kept;
      return {
        get runs() {
          return kept.runs;
        },
        set runs(value) {
          kept.runs = value;
        },
      };
    }
    const ended = entry.kept?.history?.find(
      (kept: HistoryEntry) => kept.session.sessionId === request.sessionId && request.now < kept.keepUntil,
    );
    return ended === undefined
      ? undefined
      : {
          get runs() {
            return ended.runs;
          },
          set runs(value) {
            ended.runs = value;
          },
          session: ended.session,
        };
  }

  return {
    async add(request, record) {
      const [text] = encodeItems([record], source) as [string];
      const target = holder(request);
      if (target === undefined) throw sessionEndedError(source, request.sessionId);
      const runs = runsWith(target.runs, record, text, request.maxRuns);
      target.runs = runs;
      // An ended session's record in history shows the totals it reached.
      if (target.session !== undefined) target.session.totals = runs.totals;
      return { ...runs.totals };
    },
    async list(request, page) {
      return runsPage(holder(request)?.runs, page, source);
    },
  };
}
