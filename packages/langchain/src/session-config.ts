import type { RunnableConfig } from "@langchain/core/runnables";
import {
  globalSessionId,
  type ResolvedSession,
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
 * unique per (namespace, user, session). `threadline_session_id` is the readable session id, for
 * display; `threadline_namespace` the session's namespace, for filtering runs by it.
 */
export type SessionMetadata = {
  session_id: string;
  thread_id: string;
  user_id: string;
  threadline_session_id: string;
  threadline_namespace: string;
};

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
 * What {@link resolveSessionConfig} returns: the session it resolved and the config for it.
 * `Config` is {@link HandlerSessionRunnableConfig} when made from a handler.
 */
export interface ResolvedSessionConfig<Config extends SessionRunnableConfig = SessionRunnableConfig> {
  /** The session, as `SessionManager.resolve` returned it: for `withSession` of `@threadline/otel`, a chat history, logs. */
  session: ResolvedSession;
  /** The config to pass to `invoke`/`stream`/`streamEvents`, as {@link sessionConfig} returns it. */
  config: Config;
}

/**
 * Resolves the user's session **before** the run (creating or renewing it) and returns the one
 * config object to pass to `invoke`: the handler in `callbacks`, thread `metadata` and
 * `configurable.thread_id`, both keyed by the session's global id, so a LangGraph checkpointer
 * keeps one thread per session (memory that starts afresh when the session rolls over) and two
 * users never share one.
 *
 * Make one per `invoke`. Rejects with a `SessionError` when the store fails or the user id is
 * invalid (this runs in your code, before the run, so you decide whether to go ahead). To get the
 * resolved session too, use {@link resolveSessionConfig}.
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
  return (await resolveSessionConfig(source, options)).config;
}

/**
 * {@link sessionConfig} that also returns the session it resolved, `{ session, config }`, with one
 * resolve: for code that needs the session beside the run, such as `withSession` of
 * `@threadline/otel` (every span of the run carries the session) or a chat history bound to it.
 *
 * @example
 * const { session, config } = await resolveSessionConfig(handler, { userId: "user-123" });
 * await withSession(session, () => chain.invoke({ question: "Hello" }, config));
 */
export function resolveSessionConfig(
  source: ThreadlineCallbackHandler,
  options: SessionConfigOptions,
): Promise<ResolvedSessionConfig<HandlerSessionRunnableConfig>>;
export async function resolveSessionConfig(
  source: SessionSource,
  options: SessionConfigOptions,
): Promise<ResolvedSessionConfig>;
export async function resolveSessionConfig(
  source: SessionSource,
  options: SessionConfigOptions,
): Promise<ResolvedSessionConfig> {
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
  return { session, config: sessionConfigFor(session, handler) };
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
    threadline_namespace: session.namespace,
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
