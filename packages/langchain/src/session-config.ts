import type { RunnableConfig } from "@langchain/core/runnables";
import {
  globalSessionId,
  type ResolveOptions,
  SessionError,
  type SessionManager,
  type SessionRef,
} from "@threadline/session-core";
import type { ThreadlineCallbackHandler } from "./callback-handler.js";

/** Options for {@link sessionConfig}. */
export interface SessionConfigOptions extends ResolveOptions {
  /** Whose session this run belongs to. */
  userId: string;
  /** Default: the handler's (or manager's) namespace. */
  namespace?: string;
}

/**
 * Run metadata that names the session, inherited by every child run. LangSmith groups runs into
 * threads by `session_id`/`thread_id`: both are the session's global id (`globalSessionId`),
 * unique per (namespace, user, session). `threadline_session_id` is the readable session id, for display.
 */
export type SessionMetadata = { session_id: string; thread_id: string; user_id: string; threadline_session_id: string };

/** `configurable.thread_id`: the key LangGraph checkpointers store a conversation under (the global id). */
export type SessionConfigurable = { thread_id: string };

/** A `RunnableConfig` bound to one session; spread it into `invoke`/`stream`/`streamEvents`. */
export type SessionRunnableConfig = RunnableConfig & {
  metadata: SessionMetadata;
  configurable: SessionConfigurable;
  /** The handler, when the config was made from one. */
  callbacks?: ThreadlineCallbackHandler[];
};

/** A {@link SessionRunnableConfig} made from a handler: `callbacks` holds it. */
export type HandlerSessionRunnableConfig = SessionRunnableConfig & { callbacks: ThreadlineCallbackHandler[] };

/** What {@link sessionConfig} resolves sessions with: a handler (preferred) or a bare manager. */
export type SessionSource = ThreadlineCallbackHandler | SessionManager;

/**
 * Resolves the user's session **before** the run (creating or renewing it) and returns the one
 * config object to pass to `invoke`: the handler in `callbacks`, thread `metadata` and
 * `configurable.thread_id`, both keyed by the session's global id, so a LangGraph checkpointer
 * keeps one thread per session (memory that starts afresh when the session rolls over) and two
 * users never share one.
 *
 * Make one per `invoke`. Rejects with a `SessionError` when the store fails or the user id is
 * invalid (this runs in your code, before the run, so you decide whether to go ahead).
 *
 * @example
 * const config = await sessionConfig(handler, { userId: "user-123" });
 * await graph.invoke({ messages: [new HumanMessage("hi")] }, config);
 */
export function sessionConfig(
  source: ThreadlineCallbackHandler,
  options: SessionConfigOptions,
): Promise<HandlerSessionRunnableConfig>;
export async function sessionConfig(
  source: SessionSource,
  options: SessionConfigOptions,
): Promise<SessionRunnableConfig>;
export async function sessionConfig(
  source: SessionSource,
  options: SessionConfigOptions,
): Promise<SessionRunnableConfig> {
  if (typeof options !== "object" || options === null) {
    throw invalidOption('sessionConfig needs the user: sessionConfig(handler, { userId: "user-123" }).');
  }
  const handler = isHandler(source) ? source : undefined;
  const manager = handler === undefined ? (source as SessionManager) : handler.sessionManager;
  if (typeof manager?.resolve !== "function") {
    throw invalidOption(
      "sessionConfig needs a ThreadlineCallbackHandler or a SessionManager: sessionConfig(handler, { userId }).",
    );
  }
  const namespace = options.namespace ?? handler?.namespace;
  const session = await manager.resolve(options.userId, namespace, { forceNew: options.forceNew === true });
  return sessionConfigFor(session, handler);
}

/**
 * The config for a session you already resolved (for example to bind a
 * {@link SessionChatMessageHistory} to the same session). Synchronous; does not touch the store.
 */
export function sessionConfigFor(session: SessionRef, handler: ThreadlineCallbackHandler): HandlerSessionRunnableConfig;
export function sessionConfigFor(session: SessionRef, handler?: ThreadlineCallbackHandler): SessionRunnableConfig;
export function sessionConfigFor(session: SessionRef, handler?: ThreadlineCallbackHandler): SessionRunnableConfig {
  const key = globalSessionId(session);
  const metadata = {
    session_id: key,
    thread_id: key,
    user_id: session.userId,
    threadline_session_id: session.sessionId,
  };
  if (handler === undefined) return { metadata, configurable: { thread_id: key } };
  handler.expectSession(session);
  return { callbacks: [handler], metadata, configurable: { thread_id: key } };
}

function invalidOption(message: string): SessionError {
  return new SessionError({ code: "INVALID_OPTION", source: "langchain", message });
}

function isHandler(source: SessionSource): source is ThreadlineCallbackHandler {
  return typeof (source as Partial<ThreadlineCallbackHandler> | undefined)?.expectSession === "function";
}
