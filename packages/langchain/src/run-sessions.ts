import { assertValidId, globalSessionId, type SessionManager, type SessionRef } from "@threadline/session-core";
import { ANONYMOUS_USER_ID, anonymousFallback, type ErrorSink } from "@threadline/session-core/adapter-kit";

export { ANONYMOUS_USER_ID };

/** A run's session, with its `turns` when the resolve that gave it said (`RunRecord.turn`). */
export type RunSession = SessionRef & { turns?: number };

// Sessions announced by sessionConfig and not yet claimed by a run. Bounded so configs that
// are built and never used cannot grow it without limit.
const MAX_ANNOUNCED_SESSIONS = 10_000;

/** Decides whose session a root run is in: a session `sessionConfig` announced, or one resolved for the run's user. */
export class RunSessions {
  /** The user of runs whose metadata names none (`setUserId()`). */
  fallbackUserId: string | undefined;
  readonly #manager: SessionManager;
  readonly #namespace: string;
  readonly #errors: ErrorSink;
  /** Announced sessions by their global id, which is what `metadata.session_id` carries. */
  readonly #announced = new Map<string, SessionRef>();
  readonly #anonymous = anonymousFallback(
    "langchain",
    "invoke(input, await sessionConfig(handler, { userId })), metadata: { user_id } or handler.setUserId()",
  );

  constructor(options: { manager: SessionManager; namespace: string; errors: ErrorSink }) {
    this.#manager = options.manager;
    this.#namespace = options.namespace;
    this.#errors = options.errors;
  }

  /** Remembers a session resolved before its run, so the run uses it instead of resolving again. Serves one run. */
  announce(session: SessionRef): void {
    const key = globalSessionId(session);
    this.#announced.delete(key); // re-announced: move it to the newest end
    this.#announced.set(key, session);
    if (this.#announced.size > MAX_ANNOUNCED_SESSIONS) {
      this.#announced.delete(this.#announced.keys().next().value as string);
    }
  }

  /**
   * The run's user: metadata `user_id`, else `userId`, else `setUserId()`'s, else `"anonymous"`
   * (with a one-time warning). Throws `INVALID_USER_ID` for an id the core rejects, numbers included.
   */
  userOf(metadata: Record<string, unknown>): string {
    const named = metadata.user_id ?? metadata.userId;
    if (named !== undefined) {
      assertValidId(named, "userId");
      return named;
    }
    if (this.fallbackUserId !== undefined) return this.fallbackUserId;
    return this.#anonymous();
  }

  /** The run's namespace and session: the announced one it names in `metadata.session_id`, or one resolved now. */
  sessionOf(run: { runId: string; userId: string; metadata: Record<string, unknown> }): {
    namespace: string;
    session: Promise<RunSession | null>;
  } {
    const key = run.metadata.session_id;
    const announced = typeof key === "string" ? this.#announced.get(key) : undefined;
    if (announced !== undefined && announced.userId === run.userId) {
      this.#announced.delete(key as string);
      return { namespace: announced.namespace, session: Promise.resolve(announced) };
    }
    return { namespace: this.#namespace, session: this.#resolve(run.runId, run.userId) };
  }

  /** Renews the session at the end of its run, so a long run counts as activity. Never rejects. */
  async renew(session: SessionRef, runId: string): Promise<void> {
    try {
      await this.#manager.updateActivity(session.userId, session.namespace);
    } catch (error) {
      this.#errors.report(error, { operation: "renew", runId, userId: session.userId, sessionId: session.sessionId });
    }
  }

  async #resolve(runId: string, userId: string): Promise<RunSession | null> {
    try {
      const { namespace, sessionId, turns } = await this.#manager.resolve(userId, this.#namespace);
      return { namespace, userId, sessionId, turns };
    } catch (error) {
      this.#errors.report(error, { operation: "resolve", runId, userId });
      return null;
    }
  }
}
