/**
 * The kit for store authors: the session-state rules every store written in TypeScript shares
 * (renew or replace, turns, time bounds, end claims, history), the id rule, item encoding and the
 * standard errors. A server-side store (a Lua script) applies the same rules itself. See "Writing
 * a store" in the README.
 */
export { encodeItems } from "../items.js";
export { distinctSessionId, type SessionIdHistory } from "../session-id.js";
export { describeValue } from "../validation.js";
export {
  activeSummary,
  endedSummary,
  type HistoryEntry,
  historyWith,
  invalidCursor,
  keptHistory,
  listLimit,
  MAX_HISTORY_PER_USER,
  resumeIndex,
  userSessionsPage,
} from "./history.js";
export {
  type EncodedItemsChange,
  encodeItemsChange,
  historyMismatch,
  itemsTooLarge,
  MAX_OPERATIONS_PER_SESSION,
  operationConflict,
  utf8Length,
} from "./items-change.js";
export { emptyTotals, runsPage, runsWith, type StoredRuns, totalsWithRun } from "./runs.js";
export { sessionEndedError, storeUnavailableError } from "./store-errors.js";
export {
  endEvent,
  ended,
  expiryAt,
  isLive,
  isStoredSession,
  isUnclaimedExpiry,
  nextSession,
  parseStoredSession,
  renewed,
  resolveStored,
  type StoredResolution,
  type StoredSession,
  timeEndReason,
  toRecord,
  toResolved,
} from "./stored-session.js";
