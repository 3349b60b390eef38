import { context } from "@opentelemetry/api";
import type { SessionRef } from "@threadline/session-core";
import type { Context, MiddlewareHandler } from "hono";
import type { VendorAlias } from "./attributes.js";
import { checkAliases, contextWithSession, setSessionOnActiveSpan } from "./context.js";

/** Options of {@link otelSession}. */
export interface OtelSessionOptions {
  /**
   * Also set the session on the span active when the middleware runs: the request's server span,
   * which started before the session was known. Default `true`.
   */
  activeSpan?: boolean;
  /** Vendor aliases for that span; give the same as to `threadlineSpanProcessor`. Default none. */
  aliases?: readonly VendorAlias[];
}

/**
 * Hono middleware to put after `threadlineSession` (from `@threadline/hono`): runs the rest of
 * the request inside the session's OpenTelemetry context, so every span the handler starts
 * (model calls, tools, database queries) carries the session. Reads `c.var.session`; a request
 * without one (`onStoreError: "continue"` and a failing store) runs as it would without this middleware.
 *
 * @example
 * app.use("/chat/*", threadlineSession({ userId: (c) => c.req.header("x-user-id") }), otelSession());
 */
export function otelSession(options: OtelSessionOptions = {}): MiddlewareHandler {
  const activeSpan = options.activeSpan !== false;
  const aliases = checkAliases(options.aliases);
  return async (c: Context, next) => {
    const session = (c.var as { session?: SessionRef | null }).session;
    if (session === undefined || session === null) {
      await next();
      return;
    }
    if (activeSpan) setSessionOnActiveSpan(session, { aliases });
    await context.with(contextWithSession(context.active(), session), next);
  };
}
