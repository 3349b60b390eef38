import { type Attributes, type Context, context, createContextKey, trace } from "@opentelemetry/api";
import { SessionError, type SessionRef } from "@threadline/session-core";
import { describeValue } from "@threadline/session-core/adapter-kit";
import { aliasAttributes, sessionAttributes, type VendorAlias } from "./attributes.js";

/**
 * What the context holds for a session: its attributes, computed once when the session is put in.
 * A pending entry (from {@link withSessionOf}) gets them when the session is known.
 */
export interface SessionEntry {
  session: SessionRef | undefined;
  attributes: Attributes | undefined;
}

// A key of this package's own (not Baggage): the session stays in the process and is never
// written into outgoing `baggage` headers.
const SESSION_KEY = createContextKey("@threadline/otel session");

/**
 * `context` with `session` in it: spans started in the returned context (or any context derived
 * from it) get the session's attributes from {@link threadlineSpanProcessor}. Throws a
 * `SessionError` (`INVALID_OPTION`) when `session` has no `namespace`, `userId` and `sessionId`.
 */
export function contextWithSession(parent: Context, session: SessionRef): Context {
  assertSession(session);
  const entry: SessionEntry = { session, attributes: sessionAttributes(session) };
  return parent.setValue(SESSION_KEY, entry);
}

/**
 * Runs `fn` in a context whose session is filled in once `session` resolves: for runs that
 * resolve their session themselves after they start (`hooks.run()` of `@threadline/openai-agents`).
 * Spans that start before the session is known get it when they end (the SDK's `onEnding`,
 * present in `@opentelemetry/sdk-trace-base` 2.x); a rejected or `undefined` session leaves the
 * spans without one. Returns what `fn` returns.
 */
export function withPendingSession<T>(session: () => Promise<SessionRef | undefined>, fn: () => T): T {
  const entry: SessionEntry = { session: undefined, attributes: undefined };
  return context.with(context.active().setValue(SESSION_KEY, entry), () => {
    const result = fn();
    session().then(
      (resolved) => {
        if (resolved === undefined || resolved === null) return;
        assertSession(resolved);
        entry.session = resolved;
        entry.attributes = sessionAttributes(resolved);
      },
      () => {}, // the run reports its own resolution failures
    );
    return result;
  });
}

/** The session put into `context` by {@link contextWithSession} or {@link withSession}, if any. */
export function sessionFromContext(from: Context): SessionRef | undefined {
  return entryOf(from)?.session;
}

/** The entry the span processor reads; internal. */
export function entryOf(from: Context): SessionEntry | undefined {
  return from.getValue(SESSION_KEY) as SessionEntry | undefined;
}

/**
 * Runs `fn` with `session` in the active OpenTelemetry context: every span started inside,
 * however deep and across `await`s, carries the session's attributes (with
 * {@link threadlineSpanProcessor} registered). Returns what `fn` returns (its promise, for an
 * async `fn`). Needs a context manager, which the Node SDK registers (`AsyncLocalStorageContextManager`).
 *
 * @example
 * const session = await sessions.resolve("user-123");
 * const result = await withSession(session, () => runner.run(agent, "Hello"));
 */
export function withSession<T>(session: SessionRef, fn: () => T): T {
  return context.with(contextWithSession(context.active(), session), fn);
}

/** Options of {@link setSessionOnActiveSpan}. */
export interface ActiveSpanOptions {
  /** Vendor aliases to set too; give the same as to {@link threadlineSpanProcessor}. Default none. */
  aliases?: readonly VendorAlias[];
}

/**
 * Sets the session's attributes on the active span, for a span that started before the session
 * was known (the HTTP server span of a request). Returns whether there was a recording span.
 */
export function setSessionOnActiveSpan(session: SessionRef, options: ActiveSpanOptions = {}): boolean {
  assertSession(session);
  const span = trace.getActiveSpan();
  if (span === undefined || !span.isRecording()) return false;
  const attributes = sessionAttributes(session);
  span.setAttributes(attributes);
  if (options.aliases !== undefined && options.aliases.length > 0) {
    span.setAttributes(aliasAttributes(attributes, checkAliases(options.aliases)));
  }
  return true;
}

/** Checks an `aliases` option once, where it is given. */
export function checkAliases(aliases: unknown): readonly VendorAlias[] {
  if (aliases === undefined) return [];
  if (!Array.isArray(aliases) || !aliases.every((alias) => alias === "langfuse" || alias === "langsmith")) {
    throw new SessionError({
      code: "INVALID_OPTION",
      source: "otel",
      message: `aliases must be an array of "langfuse" and "langsmith", got ${describeValue(aliases)}.`,
    });
  }
  return aliases as VendorAlias[];
}

function assertSession(session: SessionRef): void {
  if (
    typeof session !== "object" ||
    session === null ||
    typeof session.namespace !== "string" ||
    typeof session.userId !== "string" ||
    typeof session.sessionId !== "string"
  ) {
    throw new SessionError({
      code: "INVALID_OPTION",
      source: "otel",
      message: `a session needs namespace, userId and sessionId (a resolved session, c.var.session), got ${describeValue(session)}.`,
    });
  }
}
