export type { SessionHooksErrorContext, SessionHooksErrorHandler, SessionHooksOperation } from "./error-reporter.js";
export type { SessionHooksOptions } from "./options.js";
export type { HandoffRecord, RunRecord, RunUsage, ToolCallRecord } from "./run-record.js";
export {
  SessionHooks,
  type SessionRunExtras,
  type SessionRunOptions,
  type SessionStreamRunOptions,
} from "./session-hooks.js";
export { SessionMemory, type SessionMemoryOptions } from "./session-memory.js";
