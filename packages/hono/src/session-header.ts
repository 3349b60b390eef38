import { globalSessionId } from "@threadline/session-core";
import type { ErrorSink } from "@threadline/session-core/adapter-kit";
import type { Context } from "hono";
import { optionError } from "./managers.js";
import type { ThreadlineSession } from "./types.js";

const DEFAULT_HEADER = "X-Session-Id";

/** The header name `responseHeader` asks for, or `undefined` for none. Throws `INVALID_OPTION` for a name HTTP forbids. */
export function responseHeaderName(option: string | boolean | undefined): string | undefined {
  if (option === undefined || option === false) return undefined;
  if (option === true) return DEFAULT_HEADER;
  if (typeof option === "string" && /^[!#$%&'*+.^`|~\w-]+$/.test(option)) return option;
  throw optionError(
    `responseHeader must be true, false or a header name such as "X-Session-Id", got ${String(option)}.`,
  );
}

/**
 * Puts the session on the response as `globalSessionId(session)`: printable ASCII whatever the ids
 * hold (a raw id with CR/LF or `李雷` makes `Headers.set` throw), and unique per (namespace, user,
 * session). It runs after the handler, whose side effects have happened: a failure here is
 * reported, never turned into a 500 the client would retry.
 */
export function setSessionHeader(c: Context, name: string, session: ThreadlineSession, errors: ErrorSink): void {
  try {
    c.header(name, globalSessionId(session));
  } catch (error) {
    errors.report(error, { operation: "response-header", userId: session.userId, sessionId: session.sessionId });
  }
}
