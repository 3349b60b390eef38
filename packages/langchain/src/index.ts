export { ThreadlineCallbackHandler } from "./callback-handler.js";
export { type MessagesCarryOverContext, messagesCarryOver } from "./carry-over.js";
export {
  type AppendMessagesResult,
  SessionChatMessageHistory,
  type SessionChatMessageHistoryOptions,
} from "./chat-history.js";
export { type TrimThreadMessagesOptions, trimThreadMessages } from "./exchanges.js";
export type { ThreadlineCallbackHandlerOptions } from "./handler-options.js";
export { ANONYMOUS_USER_ID } from "./run-sessions.js";
export {
  type HandlerSessionRunnableConfig,
  type ResolvedSessionConfig,
  resolveSessionConfig,
  type SessionConfigOptions,
  type SessionConfigurable,
  type SessionMetadata,
  type SessionRunnableConfig,
  type SessionSource,
  sessionConfig,
  sessionConfigFor,
} from "./session-config.js";
