/**
 * The kit for adapter authors: what every threadline adapter (Hono, OpenAI Agents, LangChain)
 * builds on, so a third-party adapter follows the same rules in a few lines. See "Writing an
 * adapter" in the README.
 */

export { describeValue } from "../validation.js";
export { ANONYMOUS_USER_ID, anonymousFallback } from "./anonymous-user.js";
export {
  boundedText,
  boundedValue,
  DEFAULT_MAX_TOOL_CALLS_PER_RUN,
  DEFAULT_MAX_VALUE_LENGTH,
} from "./bounded-value.js";
export { createErrorSink, type ErrorContext, type ErrorHandler, type ErrorSink } from "./error-sink.js";
export { globalSessionId } from "./global-session-id.js";
export { type AdapterManagerOptions, assertOptionalFunction, managerFromOptions } from "./manager-from-options.js";
export { PendingWork } from "./pending-work.js";
export { type RecordHandoff, type RecordHandoffOptions, recordHandoff } from "./record-handoff.js";
