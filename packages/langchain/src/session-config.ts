import type { RunnableConfig } from "@langchain/core/runnables";
import type { ResolveOptions, SessionManager, SessionRef } from "@threadline/session-core";
import type { ThreadlineCallbackHandler } from "./callback-handler.js";

/** Options for {@link sessionConfig}. */
export interface SessionConfigOptions extends ResolveOptions {
  /** Whose session this run belongs to. */
  userId: string;
  /** Default: the handler's (or manager's) namespace. */
  namespace?: string;
}

/**
 * Run metadata that names the session. LangSmith groups runs into threads by `session_id` /
 * `thread_id`; the handler reads `user_id`. Inherited by every child run.
 */
export type SessionMetadata = {
  session_id: string;
  thread_id: string;
  user_id: string;
};

/** `configurable.thread_id`: the key LangGraph checkpointers store a conversation under. */
export type SessionConfigurable = {
  thread_id: string;
};

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
 * config object to pass to `invoke`: the handler in `callbacks`, `metadata` with `session_id`,
 * `thread_id` and `user_id`, and `configurable.thread_id`. The thread id is the session id, so a
 * LangGraph checkpointer keeps one thread per session: memory that starts afresh when the
 * session rolls over after inactivity.
 *
 * Make one per `invoke`: it names the session as it was when you made it. Rejects with a
 * `SessionError` when the store fails (unlike the handler, this runs in your code, before the
 * run, so you decide whether to go ahead without a session).
 *
 * @example
 * const config = await sessionConfig(handler, { userId: "user-123" });
 * await graph.invoke({ messages: [new HumanMessage("hi")] }, config);
 * await chain.invoke(input, { ...config, runName: "support-chat" });
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
  const handler = isHandler(source) ? source : undefined;
  const manager = handler === undefined ? (source as SessionManager) : handler.sessionManager;
  const namespace = options.namespace ?? handler?.namespace;
  const resolveOptions = options.forceNew === undefined ? undefined : { forceNew: options.forceNew };
  const session = await manager.resolve(options.userId, namespace, resolveOptions);
  return sessionConfigFor(session, handler);
}

/**
 * The config for a session you already resolved (for example to bind a
 * {@link SessionChatMessageHistory} to the same session). Synchronous; does not touch the store.
 */
export function sessionConfigFor(session: SessionRef, handler: ThreadlineCallbackHandler): HandlerSessionRunnableConfig;
export function sessionConfigFor(session: SessionRef, handler?: ThreadlineCallbackHandler): SessionRunnableConfig;
export function sessionConfigFor(session: SessionRef, handler?: ThreadlineCallbackHandler): SessionRunnableConfig {
  const metadata: SessionMetadata = {
    session_id: session.sessionId,
    thread_id: session.sessionId,
    user_id: session.userId,
  };
  const configurable: SessionConfigurable = { thread_id: session.sessionId };
  if (handler === undefined) return { metadata, configurable };
  handler.expectSession(session);
  return { callbacks: [handler], metadata, configurable };
}

function isHandler(source: SessionSource): source is ThreadlineCallbackHandler {
  return typeof (source as Partial<ThreadlineCallbackHandler>).expectSession === "function";
}
