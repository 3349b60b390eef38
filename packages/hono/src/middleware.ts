import { assertValidId, type MaybePromise, SessionError, type SessionErrorCode } from "@threadline/session-core";
import { createErrorSink } from "@threadline/session-core/adapter-kit";
import type { Env, MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import { handOffBackgroundWork } from "./background.js";
import { managerSource, optionError, SOURCE } from "./managers.js";
import { RequestSession } from "./request-session.js";
import { invalidUserResponse, missingUserResponse, storeFailureResponse } from "./responses.js";
import { responseHeaderName, setSessionHeader } from "./session-header.js";
import type { OptionalSessionEnv, SessionEnv, StoreErrorPolicy, ThreadlineSessionOptions } from "./types.js";

/**
 * Hono middleware that puts the conversation session of the request's user on `c.var.session`.
 *
 * Each request calls your server-side `userId` resolver, then resolves that user's session: the live
 * one, renewed (its inactivity timer restarts), or a new one after `inactivityTimeout` seconds of
 * silence. Resolution is atomic on atomic stores (memory, Redis, Durable Objects): concurrent
 * requests of one user get one session. A session id sent by the client is never read.
 *
 * Failures answer, they never crash the app: no user → `401` (or the anonymous session), an invalid
 * user id → `400`, a store failure → `503` (or the handler runs without a session).
 *
 * @example
 * const app = new Hono<SessionEnv>();
 * app.use(threadlineSession({ namespace: "support", userId: (c) => c.req.header("x-user-id") })); // set by your gateway
 * app.post("/chat", (c) => c.json({ sessionId: c.var.session.sessionId }));
 */
export function threadlineSession<E extends Env = Env>(
  options: ThreadlineSessionOptions<E> & { onStoreError: "continue" },
): MiddlewareHandler<E & OptionalSessionEnv>;
export function threadlineSession<E extends Env = Env>(
  options: ThreadlineSessionOptions<E> & { onStoreError?: "fail" },
): MiddlewareHandler<E & SessionEnv>;
export function threadlineSession<E extends Env = Env>(
  options: ThreadlineSessionOptions<E>,
): MiddlewareHandler<E & OptionalSessionEnv>;
export function threadlineSession<E extends Env = Env>(options: ThreadlineSessionOptions<E>): MiddlewareHandler {
  if (typeof options !== "object" || options === null || typeof options.userId !== "function") {
    throw optionError(
      'threadlineSession needs a userId resolver: threadlineSession({ userId: (c) => c.get("jwtPayload").sub }). The user id must come from the server side, never from a client-sent session id.',
    );
  }
  const resolveUserId = options.userId;
  const namespace = options.namespace;
  const onMissingUser = options.onMissingUser ?? "reject";
  if (onMissingUser !== "reject" && onMissingUser !== "anonymous" && typeof onMissingUser !== "function") {
    throw optionError(`onMissingUser must be "reject", "anonymous" or a function, got ${String(onMissingUser)}.`);
  }
  const anonymousUserId = options.anonymousUserId ?? "anonymous";
  assertValidId(anonymousUserId, "userId");
  const onStoreError: StoreErrorPolicy = options.onStoreError ?? "fail";
  if (onStoreError !== "fail" && onStoreError !== "continue") {
    throw optionError(`onStoreError must be "fail" or "continue", got ${String(onStoreError)}.`);
  }
  const header = responseHeaderName(options.responseHeader);
  const errors = createErrorSink(SOURCE, options.onError);
  const managerFor = managerSource(options);

  // The handler sees Hono's untyped `Context`: it serves every app's Env. The overloads above give
  // apps the typed view (`c.var.session`), the options give their callbacks `Context<E>`.
  return createMiddleware(async (c, next) => {
    let userId: MaybePromise<string | null | undefined> = resolveUserId(c);
    if (isPromise(userId)) userId = await userId;
    let anonymous = false;
    if (userId === undefined || userId === null) {
      if (onMissingUser === "reject") return missingUserResponse(c);
      if (onMissingUser !== "anonymous") return onMissingUser(c);
      userId = anonymousUserId;
      anonymous = true;
    }

    const manager = managerFor(c);
    const resolving = manager.resolve(userId, namespace);
    try {
      let session: RequestSession;
      try {
        session = new RequestSession(await resolving, anonymous, manager);
      } catch (error) {
        // The manager turns whatever a store throws into a SessionError; anything else is a bug
        // for Hono's error handler, as are configuration mistakes (500).
        if (!SessionError.isInstance(error)) throw error;
        if (error.code === "INVALID_USER_ID") return invalidUserResponse(c, error.message);
        if (!isStoreFailure(error.code)) throw error;
        // Hono's requestId() middleware, when it ran, ties the report to the request's logs.
        const requestId: unknown = c.get("requestId");
        errors.report(error, {
          operation: "resolve",
          userId,
          ...(typeof requestId === "string" && { runId: requestId }),
        });
        if (onStoreError === "fail") return storeFailureResponse(c, error.code);
        await next();
        return undefined;
      }
      c.set("session", session);
      await next();
      if (header !== undefined) setSessionHeader(c, header, session, errors);
      return undefined;
    } finally {
      // Resolving may have started the manager's cleanup of expired sessions, and resolving or the
      // handler's close() lifecycle callbacks (never awaited): on Workers they must outlive the
      // response, whichever way this request ends.
      handOffBackgroundWork(manager, c);
    }
  });
}

function isStoreFailure(code: SessionErrorCode): code is "STORE_UNAVAILABLE" | "STORE_ERROR" {
  return code === "STORE_UNAVAILABLE" || code === "STORE_ERROR";
}

function isPromise<T>(value: MaybePromise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === "function";
}
