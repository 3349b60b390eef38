import { type Logger, logs } from "@opentelemetry/api-logs";
import {
  globalSessionId,
  type SessionEndHandler,
  SessionError,
  type SessionStartHandler,
} from "@threadline/session-core";
import { describeValue } from "@threadline/session-core/adapter-kit";
import {
  ATTR_SESSION_PREVIOUS_ID,
  ATTR_THREADLINE_SESSION_END_REASON,
  aliasAttributes,
  EVENT_SESSION_END,
  EVENT_SESSION_START,
  sessionAttributes,
  type VendorAlias,
} from "./attributes.js";
import { checkAliases } from "./context.js";

/** The scope name of the logger the events are emitted with, unless you pass your own `logger`. */
export const LOGGER_NAME = "@threadline/otel";

/** Options of {@link sessionEventHandlers}. */
export interface SessionEventHandlersOptions {
  /**
   * The Logs API logger to emit with, e.g. `loggerProvider.getLogger("my-app")`. Default: the
   * global logger provider's `"@threadline/otel"` logger, looked up at each event, so a provider
   * registered later (`logs.setGlobalLoggerProvider`, the Node SDK) is used; before that, events go nowhere.
   */
  logger?: Pick<Logger, "emit">;
  /** Vendor aliases to set on the events too, as on spans. Default none. */
  aliases?: readonly VendorAlias[];
}

/** What {@link sessionEventHandlers} returns: spread it into the `SessionManager` (or adapter) options. */
export interface SessionEventHandlers {
  onSessionStart: SessionStartHandler;
  onSessionEnd: SessionEndHandler;
}

/**
 * The session lifecycle as the OpenTelemetry conventions' events, emitted through the Logs API
 * (`@opentelemetry/api-logs`, log records with an `eventName`):
 * - `session.start` with `session.id`, and `session.previous_id` when the session replaced
 *   another one of the same user (both global ids, like on spans);
 * - `session.end` with `session.id` and `threadline.session.end_reason`, timestamped at the
 *   session's `endedAt`. threadline delivers each end once, before the start of the session
 *   that replaced it, as the conventions ask.
 * Both also carry `user.id`, `gen_ai.conversation.id`, `threadline.namespace` and `threadline.session_id`.
 *
 * @example
 * const sessions = new SessionManager({ namespace: "support", ...sessionEventHandlers() });
 */
export function sessionEventHandlers(options: SessionEventHandlersOptions = {}): SessionEventHandlers {
  if (typeof options !== "object" || options === null) {
    throw invalid(`sessionEventHandlers(options): options must be an object, got ${describeValue(options)}.`);
  }
  const { logger } = options;
  if (logger !== undefined && typeof logger?.emit !== "function") {
    throw invalid(`logger must be a Logs API Logger (with emit()), got ${describeValue(logger)}.`);
  }
  const aliases = checkAliases(options.aliases);
  const emitter = (): Pick<Logger, "emit"> => logger ?? logs.getLogger(LOGGER_NAME);
  const attributesOf = (session: Parameters<typeof sessionAttributes>[0]) => {
    const attributes = sessionAttributes(session);
    return aliases.length > 0 ? { ...attributes, ...aliasAttributes(attributes, aliases) } : attributes;
  };
  return {
    onSessionStart({ session, previousSessionId }) {
      const attributes = attributesOf(session);
      if (previousSessionId !== undefined && previousSessionId !== session.sessionId) {
        attributes[ATTR_SESSION_PREVIOUS_ID] = globalSessionId({ ...session, sessionId: previousSessionId });
      }
      emitter().emit({ eventName: EVENT_SESSION_START, timestamp: session.createdAt, attributes });
    },
    onSessionEnd({ session, reason, endedAt }) {
      const attributes = { ...attributesOf(session), [ATTR_THREADLINE_SESSION_END_REASON]: reason };
      emitter().emit({ eventName: EVENT_SESSION_END, timestamp: endedAt, attributes });
    },
  };
}

function invalid(message: string): SessionError {
  return new SessionError({ code: "INVALID_OPTION", source: "otel", message });
}
