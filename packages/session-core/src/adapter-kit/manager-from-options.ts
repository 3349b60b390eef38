import { SessionError } from "../errors.js";
import type { CarryOver, SessionEndHandler, SessionStartHandler } from "../lifecycle.js";
import type { SessionIdFormat } from "../session-id.js";
import { SessionManager } from "../session-manager.js";
import type { SessionStore } from "../store.js";
import { assertValidId, describeValue } from "../validation.js";
import type { ErrorHandler } from "./error-sink.js";

/**
 * The session options every adapter accepts, with one rule: either pass a `sessionManager` (and
 * set store, timeout, clock and id format where you build it), or let the adapter build one from
 * the other options. Extend it in an adapter's options type.
 */
export interface AdapterManagerOptions {
  /**
   * Use this manager, with its store, timeout, clock, id format and lifecycle options. Share one
   * between adapters and your own code. Cannot be combined with the options the manager owns
   * (`store`, `inactivityTimeout`, `now`, `idFormat`, `cleanupInterval`, `maxDuration`,
   * `maxTurns`, `retention`, `onSessionStart`, `onSessionEnd`).
   */
  sessionManager?: SessionManager;
  /** Namespace of the adapter's sessions. Default: the manager's namespace (`"default"`). */
  namespace?: string;
  /** Seconds without activity after which the next call starts a new session. Default 120. */
  inactivityTimeout?: number;
  /** Where sessions live. Default: a memory store, cleaned of expired sessions as the manager runs. */
  store?: SessionStore;
  /** The clock, in ms since epoch, for sessions and the times adapters record. Default `Date.now`. */
  now?: () => number;
  /** How new session ids look. Default `"timestamp"`. */
  idFormat?: SessionIdFormat;
  /** Seconds between the manager's background cleanups of expired sessions; `0` turns them off. Default 60. */
  cleanupInterval?: number;
  /** Seconds a session may last at most, however active (end reason `"max-duration"`). Default: no limit. */
  maxDuration?: number;
  /** Turns (resolves) a session may serve; the next one starts a new session (`"max-turns"`). Default: no limit. */
  maxTurns?: number;
  /** Seconds an ended session stays listed in history. Default 0. */
  retention?: number;
  /** Called with each new session; not awaited. See `SessionManagerOptions.onSessionStart`. */
  onSessionStart?: SessionStartHandler;
  /** Called once with each ended session and why it ended; not awaited. See `SessionManagerOptions.onSessionEnd`. */
  onSessionEnd?: SessionEndHandler;
  /** Seed a new session from the items of the one it replaced (opt-in). See `SessionManagerOptions.carryOver`. */
  carryOver?: CarryOver;
  /** Most conversation items a session keeps (oldest turns go first). Default 2,000. */
  maxItems?: number;
  /** Most bytes of conversation items a session keeps. Default 2 MiB. */
  maxItemBytes?: number;
  /** Most run records a session keeps with `addRunRecord`. Default 100. */
  maxRuns?: number;
  /**
   * Receives every failure the adapter keeps away from your app (store outages, a failing callback
   * of yours), and the failures of the manager's background cleanup when the adapter builds the
   * manager. Default: log the first failure of each operation.
   */
  onError?: ErrorHandler;
}

const managerOwned = [
  "store",
  "inactivityTimeout",
  "now",
  "idFormat",
  "cleanupInterval",
  "maxDuration",
  "maxTurns",
  "retention",
  "onSessionStart",
  "onSessionEnd",
  "carryOver",
  "maxItems",
  "maxItemBytes",
  "maxRuns",
] as const;

/**
 * The manager an adapter uses: the injected `sessionManager`, or a new one built from the
 * options. Throws `INVALID_OPTION` (tagged with `source`) when both are given, because the
 * adapter would otherwise have to choose which clock or store wins. Adapters read the time they
 * record from `manager.now()`, so records and sessions always share one clock.
 *
 * @param source the adapter's name for messages, e.g. `"hono"`
 */
export function managerFromOptions(options: AdapterManagerOptions, source: string): SessionManager {
  if (typeof options !== "object" || options === null) {
    throw new SessionError({
      code: "INVALID_OPTION",
      source,
      message: `Options must be an object, got ${describeValue(options)}.`,
    });
  }
  const manager = options.sessionManager;
  if (manager === undefined) {
    try {
      return new SessionManager({
        namespace: options.namespace,
        inactivityTimeout: options.inactivityTimeout,
        store: options.store,
        now: options.now,
        idFormat: options.idFormat,
        cleanupInterval: options.cleanupInterval,
        maxDuration: options.maxDuration,
        maxTurns: options.maxTurns,
        retention: options.retention,
        onSessionStart: options.onSessionStart,
        onSessionEnd: options.onSessionEnd,
        carryOver: options.carryOver,
        maxItems: options.maxItems,
        maxItemBytes: options.maxItemBytes,
        maxRuns: options.maxRuns,
        onError: options.onError,
      });
    } catch (error) {
      // Re-tag the core's message with the adapter the option was passed to.
      if (SessionError.isInstance(error) && error.source === undefined) {
        throw new SessionError({ code: error.code, source, message: error.message.replace(/^\[threadline\] /, "") });
      }
      throw error;
    }
  }
  // Duck-typed rather than instanceof: two copies of session-core in one app are still one API.
  if (
    typeof manager !== "object" ||
    manager === null ||
    typeof (manager as { resolve?: unknown }).resolve !== "function"
  ) {
    throw new SessionError({
      code: "INVALID_OPTION",
      source,
      message: `sessionManager must be a SessionManager from @threadline/session-core (new SessionManager({ … })), got ${describeValue(manager)}.`,
    });
  }
  const conflicting = managerOwned.filter((name) => options[name] !== undefined);
  if (conflicting.length > 0) {
    throw new SessionError({
      code: "INVALID_OPTION",
      source,
      message: `Pass either sessionManager or ${conflicting.join(", ")}, not both: the manager already has its own. Set ${conflicting.length === 1 ? "it" : "them"} where you create the SessionManager.`,
    });
  }
  if (options.namespace !== undefined) assertValidId(options.namespace, "namespace");
  return manager;
}

/**
 * Throws `INVALID_OPTION` unless `value` is a function or `undefined`: a callback option such as
 * `onRecord: "x"` fails when the adapter is built, not when it would first be called.
 *
 * @param name the option's name, for the message
 * @param shape how the function is called, for the message: `"(record) => void"`
 */
export function assertOptionalFunction(value: unknown, name: string, shape: string, source: string): void {
  if (value === undefined || typeof value === "function") return;
  throw new SessionError({
    code: "INVALID_OPTION",
    source,
    message: `${name} must be a function ${shape}, got ${describeValue(value)}.`,
  });
}
