export {
  ATTR_GEN_AI_CONVERSATION_ID,
  ATTR_SESSION_ID,
  ATTR_SESSION_PREVIOUS_ID,
  ATTR_THREADLINE_NAMESPACE,
  ATTR_THREADLINE_SESSION_END_REASON,
  ATTR_THREADLINE_SESSION_ID,
  ATTR_USER_ID,
  EVENT_SESSION_END,
  EVENT_SESSION_START,
  sessionAttributes,
  type VendorAlias,
} from "./attributes.js";
export {
  type ActiveSpanOptions,
  contextWithSession,
  sessionFromContext,
  setSessionOnActiveSpan,
  withPendingSession,
  withSession,
} from "./context.js";
export { type OtelSessionOptions, otelSession } from "./hono.js";
export {
  LOGGER_NAME,
  type SessionEventHandlers,
  type SessionEventHandlersOptions,
  sessionEventHandlers,
} from "./session-events.js";
export {
  type ThreadlineSpanProcessor,
  type ThreadlineSpanProcessorOptions,
  threadlineSpanProcessor,
} from "./span-processor.js";
