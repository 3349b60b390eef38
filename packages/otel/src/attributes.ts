import type { Attributes } from "@opentelemetry/api";
import { globalSessionId, type SessionRef } from "@threadline/session-core";

// The session and user attributes are "development" in the semantic conventions, so
// @opentelemetry/semantic-conventions exports them only from its `incubating` entry, whose
// README asks libraries to copy the names instead of importing them. A test checks each copy
// against the installed package.

/** `session.id`: the session's global id (`globalSessionId`), unique per namespace, user and session. */
export const ATTR_SESSION_ID = "session.id";
/** `session.previous_id`: on `session.start`, the global id of the session this one replaced. */
export const ATTR_SESSION_PREVIOUS_ID = "session.previous_id";
/** `user.id`: the threadline user id. */
export const ATTR_USER_ID = "user.id";
/** `gen_ai.conversation.id`: the same global id, for GenAI-aware backends. */
export const ATTR_GEN_AI_CONVERSATION_ID = "gen_ai.conversation.id";
/** `threadline.namespace`: the session's namespace. */
export const ATTR_THREADLINE_NAMESPACE = "threadline.namespace";
/** `threadline.session_id`: the readable session id, e.g. `support-user-123-20250107-120000`. */
export const ATTR_THREADLINE_SESSION_ID = "threadline.session_id";
/** `threadline.session.end_reason`: on `session.end`, why the session ended (`expired`, `closed`, …). */
export const ATTR_THREADLINE_SESSION_END_REASON = "threadline.session.end_reason";

/** The conventions' event names, also copied from the `incubating` entry. */
export const EVENT_SESSION_START = "session.start";
export const EVENT_SESSION_END = "session.end";

/**
 * Extra attribute names some backends read instead of (or besides) the conventions':
 * - `"langfuse"`: `langfuse.session.id`, `langfuse.user.id` (Langfuse also reads `session.id` and `user.id`);
 * - `"langsmith"`: `langsmith.metadata.session_id`, `langsmith.metadata.user_id`: LangSmith's OTel
 *   ingestion turns `langsmith.metadata.*` into run metadata, and groups runs into threads by
 *   metadata `session_id`. (Not `langsmith.trace.session_id`: in LangSmith that is the tracing project.)
 */
export type VendorAlias = "langfuse" | "langsmith";

/** The session attributes every span of the session gets, before aliases. */
export function sessionAttributes(session: SessionRef): Attributes {
  const key = globalSessionId(session);
  return {
    [ATTR_SESSION_ID]: key,
    [ATTR_USER_ID]: session.userId,
    [ATTR_GEN_AI_CONVERSATION_ID]: key,
    [ATTR_THREADLINE_NAMESPACE]: session.namespace,
    [ATTR_THREADLINE_SESSION_ID]: session.sessionId,
  };
}

/** The alias attributes of `aliases` for a session's attributes (from {@link sessionAttributes}). */
export function aliasAttributes(attributes: Attributes, aliases: readonly VendorAlias[]): Attributes {
  const out: Attributes = {};
  const sessionId = attributes[ATTR_SESSION_ID];
  const userId = attributes[ATTR_USER_ID];
  for (const alias of aliases) {
    if (alias === "langfuse") {
      out["langfuse.session.id"] = sessionId;
      out["langfuse.user.id"] = userId;
    } else if (alias === "langsmith") {
      out["langsmith.metadata.session_id"] = sessionId;
      out["langsmith.metadata.user_id"] = userId;
    }
  }
  return out;
}
