import type { SessionError, SessionIdFormat, SessionManager, SessionStore } from "@threadline/session-core";
import type { Context, Env } from "hono";

/** A value or a promise of it. */
export type MaybePromise<T> = T | Promise<T>;

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
  /** True when this request started the session (first request, after inactivity, after `close()`). */
  readonly isNew: boolean;
  /** True when the resolver found no user and `onMissingUser: "anonymous"` gave this request the shared anonymous session. */
  readonly anonymous: boolean;
  /** When the session was created (ms since epoch). */
  readonly createdAt: number;
  /** This request's time: resolving the session renewed it (ms since epoch). */
  readonly lastActivityAt: number;
  /** When the session ends unless another request renews it: `lastActivityAt + inactivityTimeout` (ms since epoch). */
  readonly expiresAt: number;
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

/** Options for {@link threadlineSession}. */
export interface ThreadlineSessionOptions<E extends Env = Env> {
  /**
   * Who the request is from, decided on the server: a claim of a JWT you verified
   * (`c.get("jwtPayload").sub`), a header set by a gateway you trust, a field of a webhook body whose
   * signature you checked. Return `undefined` or `null` when there is no user (see `onMissingUser`).
   * A string that is not a valid user id (empty, blank, over 256 characters, ill-formed Unicode)
   * gets `400` with code `INVALID_USER_ID`, and nothing is stored. Errors it throws go to Hono's error handler.
   */
  userId: (c: Context<E>) => MaybePromise<string | null | undefined>;
  /** The namespace of the sessions. Default: the manager's namespace (`"default"`). */
  namespace?: string;
  /** Seconds without a request after which the user's next request starts a new session. Default 120. Not with `sessionManager`. */
  inactivityTimeout?: number;
  /** The clock in ms since epoch. Default `Date.now`. Inject a fake one in tests. Not with `sessionManager`. */
  now?: () => number;
  /** How new session ids look (`"timestamp"`, `"timestamp-micro"`, `"uuid"` or a function). Default `"timestamp"`. Not with `sessionManager`. */
  idFormat?: SessionIdFormat;
  /**
   * Where sessions live: a store, or a function that returns the store for a request, e.g. from
   * Workers bindings: `(c, { waitUntil }) => kvStore({ binding: c.env.SESSIONS, waitUntil })`.
   * The middleware keeps one manager per store object (in a WeakMap of this middleware), so a
   * store you return again for the next request reuses its manager. Default: one memory store
   * per middleware. Not with `sessionManager`.
   */
  store?: SessionStore | StoreFactory<E>;
  /** A manager you built yourself, e.g. to share with other adapters. Excludes `store`, `inactivityTimeout`, `now`, `idFormat`. */
  sessionManager?: SessionManager;
  /** What to do when `userId` returns no user. Default `"reject"` (401). */
  onMissingUser?: MissingUserPolicy<E>;
  /** The user id of anonymous requests with `onMissingUser: "anonymous"`. Default `"anonymous"`. */
  anonymousUserId?: string;
  /** What to do when the store fails. Default `"fail"` (503). */
  onStoreError?: StoreErrorPolicy;
  /**
   * A response header that carries the session id back to the client, e.g. `"X-Session-Id"`; `true`
   * means `"X-Session-Id"`. Default: none. The header is output only: the middleware never reads a
   * session id from a request.
   */
  responseHeader?: string | boolean;
  /**
   * Seconds between background removals of expired sessions, for stores that do not expire them by
   * themselves (the memory store). Runs after a request whose time is due, never blocks it, and goes
   * to `c.executionCtx.waitUntil` on Workers. `0` turns it off. Default 60.
   */
  cleanupInterval?: number;
  /**
   * Hears store failures and background cleanup failures, so they never vanish. Must not throw.
   * Default: `console.error`.
   */
  onError?: (error: SessionError, c: Context<E>) => void;
}
