/**
 * The kit for store authors: the session-state rules every store written in TypeScript shares,
 * the id rule, item encoding and the standard errors. A server-side store (a Lua script) applies
 * the same rules itself. See "Writing a store" in the README.
 */
export { encodeItems } from "../items.js";
export { distinctSessionId, type SessionIdHistory } from "../session-id.js";
export { describeValue } from "../validation.js";
export { sessionEndedError, storeUnavailableError } from "./store-errors.js";
export {
  ended,
  isLive,
  isStoredSession,
  nextSession,
  parseStoredSession,
  renewed,
  type StoredSession,
  toRecord,
  toResolved,
} from "./stored-session.js";
