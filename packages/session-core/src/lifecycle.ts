import { SessionError } from "./errors.js";
import type { ResolvedSession, SessionEndEvent, SessionSummary } from "./store.js";
import { describeValue } from "./validation.js";

/** What `onSessionStart` receives: the new session, and the one it replaced when the store knows it. */
export interface SessionStartEvent {
  session: ResolvedSession;
  previousSessionId?: string;
}

/** Receives each new session. May be async; it is not awaited by the call that created the session. */
export type SessionStartHandler = (event: SessionStartEvent) => unknown;

/** Receives each ended session once. May be async; it is not awaited by the call that ended it. */
export type SessionEndHandler = (event: SessionEndEvent) => unknown;

/** What a carry-over's `seed` receives: the new session and the items of the one it replaced. */
export interface CarryOverContext {
  session: ResolvedSession;
  /** The ended session the items belonged to. */
  previousSessionId: string;
  /** Its conversation items, oldest first: handed out this once, then gone from the store. */
  items: unknown[];
}

/**
 * Seeding a user's new session from the one it replaced (opt-in; memory never crosses sessions
 * otherwise): the store keeps an ended session's items for `within` seconds, and when the pair's
 * next session is created, `seed` gets them once and returns the items to start it with (a
 * summary the model writes, the user's name), or nothing.
 */
export interface CarryOver {
  seed: (context: CarryOverContext) => readonly unknown[] | undefined | Promise<readonly unknown[] | undefined>;
  /** Seconds an ended session's items wait for the next session. Default 86,400 (one day). */
  within?: number;
}

/** Options of {@link SessionManager.listSessions}. */
export interface ListSessionsOptions {
  /**
   * The namespace to list. With `userId` it defaults to the manager's (a user is looked up within
   * one namespace); without, an omitted namespace lists every namespace.
   */
  namespace?: string;
  /** Only this user's sessions, newest first, at a cost in proportion to them. */
  userId?: string;
  /** `"active"` (default): live sessions; `"ended"`: ended ones kept for `retention`; `"all"`: both. */
  status?: "active" | "ended" | "all";
  /** From the previous page's `cursor`. */
  cursor?: string;
  /** Most sessions per page. Default 100. */
  limit?: number;
}

/** One page of {@link SessionManager.listSessions}. */
export interface SessionList {
  sessions: SessionSummary[];
  /** Pass back as `cursor` for the next page; absent on the last page. */
  cursor?: string;
}

/** The lifecycle limits of a manager, in the store's units (ms, counts). */
export interface LifecycleSettings {
  maxDurationMs: number | undefined;
  maxTurns: number | undefined;
  retentionMs: number;
  /** 0 when carry-over is off. */
  carryOverMs: number;
}

/** Reads and checks the lifecycle options: seconds become ms; omitted limits stay `undefined`. */
export function lifecycleSettings(options: {
  maxDuration?: number;
  maxTurns?: number;
  retention?: number;
  carryOver?: CarryOver;
}): LifecycleSettings {
  const { maxDuration, maxTurns, retention, carryOver } = options;
  if (carryOver !== undefined) {
    if (typeof carryOver !== "object" || carryOver === null || typeof carryOver.seed !== "function") {
      throw invalid(
        `carryOver must be { seed: (context) => items, within?: seconds }, got ${describeValue(carryOver)}.`,
      );
    }
    const within = carryOver.within;
    if (within !== undefined && !(typeof within === "number" && within > 0 && Number.isFinite(within))) {
      throw invalid(`carryOver.within must be a positive, finite number of seconds, got ${describeValue(within)}.`);
    }
  }
  if (
    maxDuration !== undefined &&
    !(typeof maxDuration === "number" && maxDuration > 0 && Number.isFinite(maxDuration))
  ) {
    throw invalid(
      `maxDuration must be a positive, finite number of seconds (omit it for no limit), got ${describeValue(maxDuration)}.`,
    );
  }
  if (maxTurns !== undefined && !(Number.isSafeInteger(maxTurns) && maxTurns >= 1)) {
    throw invalid(`maxTurns must be a whole number ≥ 1 (omit it for no limit), got ${describeValue(maxTurns)}.`);
  }
  if (retention !== undefined && !(typeof retention === "number" && retention >= 0 && Number.isFinite(retention))) {
    throw invalid(
      `retention must be a finite number of seconds ≥ 0 (0 keeps no history), got ${describeValue(retention)}.`,
    );
  }
  return {
    maxDurationMs: maxDuration === undefined ? undefined : Math.max(1, Math.round(maxDuration * 1000)),
    maxTurns,
    retentionMs: Math.round((retention ?? 0) * 1000),
    carryOverMs: carryOver === undefined ? 0 : Math.round((carryOver.within ?? 86_400) * 1000),
  };
}

/** Checks an optional callback option. */
export function optionalHandler<T>(value: T | undefined, name: string): T | undefined {
  if (value !== undefined && typeof value !== "function") {
    throw invalid(`${name} must be a function, got ${describeValue(value)}.`);
  }
  return value;
}

/** Checks `listSessions`' status. */
export function listStatus(status: unknown): "active" | "ended" | "all" {
  if (status === undefined) return "active";
  if (status === "active" || status === "ended" || status === "all") return status;
  throw invalid(`status must be "active", "ended" or "all", got ${describeValue(status)}.`);
}

function invalid(message: string): SessionError {
  return new SessionError({ code: "INVALID_OPTION", message });
}
