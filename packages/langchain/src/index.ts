export { ANONYMOUS_USER_ID, ThreadlineCallbackHandler } from "./callback-handler.js";
export { SessionChatMessageHistory, type SessionChatMessageHistoryOptions } from "./chat-history.js";
export type {
  HandlerErrorContext,
  HandlerErrorStage,
  ThreadlineCallbackHandlerOptions,
} from "./handler-options.js";
export type { RunKind, RunRecord, TokenUsage, ToolCallRecord } from "./run-record.js";
export {
  type HandlerSessionRunnableConfig,
  type SessionConfigOptions,
  type SessionConfigurable,
  type SessionMetadata,
  type SessionRunnableConfig,
  type SessionSource,
  sessionConfig,
  sessionConfigFor,
} from "./session-config.js";
