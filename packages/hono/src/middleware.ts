import { assertValidId, SessionError, type SessionErrorCode } from "@threadline/session-core";
import type { Context, Env, MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import { runInBackground } from "./background.js";
import { type ManagerSlot, managerSource, optionError } from "./managers.js";
import { RequestSession } from "./request-session.js";
import { invalidUserResponse, missingUserResponse, storeFailureResponse } from "./responses.js";
import type {
  MaybePromise,
  OptionalSessionEnv,
  SessionEnv,
  StoreErrorPolicy,
  ThreadlineSessionOptions,
} from "./types.js";

const DEFAULT_HEADER = "X-Session-Id";

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
  const cleanupIntervalMs = secondsToMs(options.cleanupInterval ?? 60, "cleanupInterval");
  const report = options.onError ?? defaultReport;
  const managerFor = managerSource(options, cleanupIntervalMs);

  const reportSafely = (error: SessionError, c: Context<E>): void => {
    try {
      report(error, c);
    } catch {
      // A failing logger must not turn a handled failure into a crash.
    }
  };

  // `now` is the time the manager just resolved the session at, so the hot path reads no second clock.
  const cleanUpIfDue = (slot: ManagerSlot, c: Context<E>, now: number): void => {
    if (now < slot.nextCleanupAt) return;
    // Move the deadline first so concurrent requests start one cleanup, not one each.
    slot.nextCleanupAt = now + cleanupIntervalMs;
    const cleanup = slot.manager.cleanupExpired().then(
      () => undefined,
      (error: unknown) => reportSafely(asSessionError(error), c),
    );
    runInBackground(c, cleanup);
  };

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

    const slot = managerFor(c);
    let session: RequestSession;
    try {
      session = new RequestSession(await slot.manager.resolve(userId, namespace), anonymous, slot.manager);
    } catch (error) {
      // The manager turns whatever a store throws into a SessionError; anything else is a bug
      // for Hono's error handler, as are configuration mistakes (500).
      if (!SessionError.isInstance(error)) throw error;
      if (error.code === "INVALID_USER_ID") return invalidUserResponse(c, error.message);
      if (!isStoreFailure(error.code)) throw error;
      reportSafely(error, c);
      if (onStoreError === "fail") return storeFailureResponse(c, error.code);
      return next();
    }
    c.set("session", session);
    if (slot.nextCleanupAt !== Number.POSITIVE_INFINITY) cleanUpIfDue(slot, c, session.lastActivityAt);
    await next();
    if (header !== undefined) c.header(header, session.sessionId);
    return undefined;
  });
}

function isStoreFailure(code: SessionErrorCode): code is "STORE_UNAVAILABLE" | "STORE_ERROR" {
  return code === "STORE_UNAVAILABLE" || code === "STORE_ERROR";
}

function asSessionError(error: unknown): SessionError {
  if (SessionError.isInstance(error)) return error;
  return new SessionError({
    code: "STORE_ERROR",
    source: "hono",
    message: `Background cleanup of expired sessions failed: ${error instanceof Error ? error.message : String(error)}`,
    cause: error,
  });
}

function responseHeaderName(option: string | boolean | undefined): string | undefined {
  if (option === undefined || option === false) return undefined;
  if (option === true) return DEFAULT_HEADER;
  if (typeof option === "string" && /^[!#$%&'*+.^`|~\w-]+$/.test(option)) return option;
  throw optionError(
    `responseHeader must be true, false or a header name such as "X-Session-Id", got ${String(option)}.`,
  );
}

function secondsToMs(seconds: number, name: string): number {
  if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds < 0) {
    throw optionError(`${name} must be a number of seconds ≥ 0 (0 turns it off), got ${String(seconds)}.`);
  }
  return seconds * 1000;
}

function isPromise<T>(value: MaybePromise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === "function";
}

function defaultReport(error: SessionError): void {
  console.error(error);
}
