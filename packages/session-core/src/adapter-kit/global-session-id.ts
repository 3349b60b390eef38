import type { SessionRef } from "../store.js";

/**
 * The key to give a system outside threadline for a session: a LangGraph `thread_id`, LangSmith
 * thread metadata, an Agents trace `groupId`, an OpenTelemetry `session.id`, an HTTP header.
 *
 * A session id is unique only within its (namespace, userId) pair, and the guide's readable ids
 * can coincide across pairs: (`support-vip`, `123`) and (`support`, `vip-123`) both get
 * `support-vip-123-20250107-120000` in the same second. This key encodes the whole triple,
 * `{namespace}/{userId}/{sessionId}` with each part percent-encoded (`encodeURIComponent`), so
 * it is unique per (namespace, userId, session), contains only printable ASCII (safe in any
 * HTTP header), and still reads like the session: `support/user-123/support-user-123-20250107-120000`.
 */
export function globalSessionId(session: SessionRef): string {
  return `${encodeURIComponent(session.namespace)}/${encodeURIComponent(session.userId)}/${encodeURIComponent(session.sessionId)}`;
}
