export type {
  HistoryMutation,
  HistoryMutationArgs,
  HistoryTransaction,
  HistoryTransactionArgs,
} from "./history-items.js";
export type { RunInSession, SessionHooksOptions } from "./options.js";
export {
  SessionHooks,
  type SessionRunExtras,
  type SessionRunOptions,
  type SessionStreamRunOptions,
} from "./session-hooks.js";
export { SessionMemory, type SessionMemoryOptions } from "./session-memory.js";
