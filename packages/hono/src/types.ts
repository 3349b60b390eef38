import type { MaybePromise, SessionManager, SessionStore } from "@threadline/session-core";
import type { AdapterManagerOptions, ErrorHandler } from "@threadline/session-core/adapter-kit";
import type { Context, Env } from "hono";

/**
 * The conversation session of the user behind the current request, as the middleware puts it on
 * `c.var.session`. Times are ms since the Unix epoch. `JSON.stringify` gives the data fields only.
 */
export interface ThreadlineSession {
  /** The session id, e.g. `support-user-123-20250107-120000`. Decided by the server, never by the client. */
  readonly sessionId: string;
  /** The user id your `userId` resolver returned (or `anonymousUserId` for anonymous requests). */
  readonly userId: string;
  /** The namespace the session lives in. */
  readonly namespace: string;
  /**
   * True when this request started the session (first request, after inactivity, after `close()`,
   * or past `maxDuration`/`maxTurns`).
   */
  readonly isNew: boolean;
  /** True when the resolver found no user and `onMissingUser: "anonymous"` gave this request the shared anonymous session. */
  readonly anonymous: boolean;
  /** When the session was created (ms since epoch). */
  readonly createdAt: number;
  /** This request's time: resolving the session renewed it (ms since epoch). */
  readonly lastActivityAt: number;
  /**
   * When the session ends unless another request renews it (ms since epoch): `lastActivityAt +
   * inactivityTimeout`, or `createdAt + maxDuration` when that comes first.
   */
  readonly expiresAt: number;
  /** Requests that resolved this session, this one included (1 on the request that started it). */
  readonly turns: number;
  /** The session of this user that this one replaced, when the store knows it (set on the request that started it). */
  readonly previousSessionId: string | undefined;
  /** The manager that resolved the session, for conversation items (`manager.addItems(session, items)`) and the like. */
  readonly manager: SessionManager;
  /**
   * Ends this session now; the user's next request starts a new one with a different id.
   * Resolves to whether it ended it: `false` when it had already ended, including when another
   * request of the same user rolled it over meanwhile (that newer session is left alone).
   * Rejects with a `SessionError` when the store fails.
   */
  close(): Promise<boolean>;
}

/** The variables the middleware sets. */
export interface SessionVariables {
  session: ThreadlineSession;
}

/**
 * The Hono `Env` of apps that use the middleware: `new Hono<SessionEnv>()` (or merge it into your
 * own Env) makes `c.var.session` typed in every handler.
 */
export interface SessionEnv {
  Variables: SessionVariables;
}

/** The variables with `onStoreError: "continue"`: the session is missing when the store failed. */
export interface OptionalSessionVariables {
  session: ThreadlineSession | undefined;
}

/** The Hono `Env` with `onStoreError: "continue"`: check `c.var.session` before using it. */
export interface OptionalSessionEnv {
  Variables: OptionalSessionVariables;
}

/**
 * What to do when the `userId` resolver returns `undefined` or `null`:
 * - `"reject"` (default): answer `401` with `{ "error": "unauthenticated", "code": "MISSING_USER" }`; the handler does not run.
 * - `"anonymous"`: resolve the session of `anonymousUserId` (default `"anonymous"`). Every request
 *   without a user shares that one session, as the origin SDK's default user does; use it only where
 *   that is what you want.
 * - a function: its response is sent instead; the handler does not run.
 */
export type MissingUserPolicy<E extends Env> = "reject" | "anonymous" | ((c: Context<E>) => MaybePromise<Response>);

/**
 * What to do when the store fails (`STORE_UNAVAILABLE`, `STORE_ERROR`):
 * - `"fail"` (default): answer `503` with `{ "error": "session_store_unavailable", "code": … }`; the handler does not run.
 * - `"continue"`: run the handler with `c.var.session` undefined.
 * Either way the failure goes to `onError`.
 */
export type StoreErrorPolicy = "fail" | "continue";

/** What a store function gets besides the context. */
export interface StoreFactoryTools {
  /**
   * The request's `executionCtx.waitUntil` on Workers, for stores that write in the background
   * (`kvStore({ binding, waitUntil })`); `undefined` on runtimes without one (Node, Bun, Deno).
   */
  waitUntil: ((promise: Promise<unknown>) => void) | undefined;
}

/** Builds the store for a request, typically from Workers bindings in `c.env`. */
export type StoreFactory<E extends Env> = (c: Context<E>, tools: StoreFactoryTools) => SessionStore;

/**
 * Options for {@link threadlineSession}. The session options follow the adapter kit's one rule:
 * either `sessionManager` (with its own store, timeout, clock, id format, cleanup and lifecycle
 * options), or `store`, `inactivityTimeout`, `now`, `idFormat`, `cleanupInterval`, `maxDuration`,
 * `maxTurns`, `retention`, `onSessionStart`, `onSessionEnd` for a manager the middleware builds;
 * `namespace` works with both.
 *
 * `onSessionStart`/`onSessionEnd` are never awaited by the request: a throw or rejection goes to
 * `onError` (operation `"onSessionStart"`/`"onSessionEnd"`) and the response is sent as usual. On
 * Workers the middleware hands the callbacks still running when the handler returns to
 * `c.executionCtx.waitUntil`, so they finish after the response.
 */
export interface ThreadlineSessionOptions<E extends Env = Env> extends Omit<AdapterManagerOptions, "store"> {
  /**
   * Who the request is from, decided on the server: a claim of a JWT you verified
   * (`c.get("jwtPayload").sub`), a header set by a gateway you trust, a field of a webhook body whose
   * signature you checked. Return `undefined` or `null` when there is no user (see `onMissingUser`).
   * A string that is not a valid user id (empty, blank, over 256 characters, ill-formed Unicode)
   * gets `400` with code `INVALID_USER_ID`, and nothing is stored. Errors it throws go to Hono's error handler.
   */
  userId: (c: Context<E>) => MaybePromise<string | null | undefined>;
  /**
   * Where sessions live: a store (`memoryStore()`, `redisStore({ client })`), or a function that
   * returns the store for a request, e.g. from Workers bindings:
   * `(c, { waitUntil }) => kvStore({ binding: c.env.SESSIONS, waitUntil })`. The middleware keeps
   * one manager per store object (in a WeakMap of this middleware), so a store you return again
   * for the next request reuses its manager. Default: one memory store per middleware, cleaned of
   * expired sessions by its manager. Not with `sessionManager`.
   */
  store?: SessionStore | StoreFactory<E>;
  /** What to do when `userId` returns no user. Default `"reject"` (401). */
  onMissingUser?: MissingUserPolicy<E>;
  /** The user id of anonymous requests with `onMissingUser: "anonymous"`. Default `"anonymous"`. */
  anonymousUserId?: string;
  /** What to do when the store fails. Default `"fail"` (503). */
  onStoreError?: StoreErrorPolicy;
  /**
   * A response header that carries the session back to the client; `true` means `"X-Session-Id"`.
   * Default: none. Its value is `globalSessionId(session)`: `{namespace}/{userId}/{sessionId}`, each
   * part percent-encoded, so it is printable ASCII for any id and unique per (namespace, user,
   * session). Decode it with `value.split("/").map(decodeURIComponent)`. Output only: the
   * middleware never reads a session id from a request.
   */
  responseHeader?: string | boolean;
  /**
   * Hears the failures the middleware keeps away from the request, as `(error, context)`: a store
   * failure while resolving (`context.operation` `"resolve"`, answered `503` or continued without a
   * session), a response header that could not be set (`"response-header"`), and, when the
   * middleware builds the manager, its background cleanup (`"cleanup"`) and a throwing or
   * rejecting `onSessionStart`/`onSessionEnd` (`"onSessionStart"`/`"onSessionEnd"`, with
   * `context.sessionId`). `context.userId` names the
   * user and `context.runId` is `c.var.requestId` when Hono's `requestId()` middleware runs first.
   * Must not throw. Default: log the first failure of each operation with `console.error`.
   */
  onError?: ErrorHandler;
}
