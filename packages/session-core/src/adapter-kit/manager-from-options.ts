import { SessionError } from "../errors.js";
import { SessionManager, type SessionManagerOptions } from "../session-manager.js";
import { assertValidId, describeValue } from "../validation.js";
import type { ErrorHandler } from "./error-sink.js";

/** The options a manager owns: an adapter passes them on when it builds the manager itself. */
type ManagerOwnedOption =
  | "store"
  | "inactivityTimeout"
  | "now"
  | "idFormat"
  | "cleanupInterval"
  | "maxDuration"
  | "maxTurns"
  | "retention"
  | "onSessionStart"
  | "onSessionEnd"
  | "carryOver"
  | "maxItems"
  | "maxItemBytes"
  | "maxRuns";

// A record, not a list, so adding an option to the type without adding it here fails the build.
const managerOwnedOptions: Record<ManagerOwnedOption, true> = {
  store: true,
  inactivityTimeout: true,
  now: true,
  idFormat: true,
  cleanupInterval: true,
  maxDuration: true,
  maxTurns: true,
  retention: true,
  onSessionStart: true,
  onSessionEnd: true,
  carryOver: true,
  maxItems: true,
  maxItemBytes: true,
  maxRuns: true,
};
const managerOwned = Object.keys(managerOwnedOptions) as ManagerOwnedOption[];

/**
 * The session options every adapter accepts, with one rule: either pass a `sessionManager` (and
 * set the options it owns where you build it), or let the adapter build one from those options,
 * documented on `SessionManagerOptions`. Extend it in an adapter's options type.
 */
export interface AdapterManagerOptions extends Pick<SessionManagerOptions, ManagerOwnedOption> {
  /**
   * Use this manager, with its store, timeout, clock, id format, lifecycle and item options. Share
   * one between adapters and your own code. Cannot be combined with the options the manager owns
   * (`store`, `inactivityTimeout`, `now`, `idFormat`, `cleanupInterval`, `maxDuration`,
   * `maxTurns`, `retention`, `onSessionStart`, `onSessionEnd`, `carryOver`, `maxItems`,
   * `maxItemBytes`, `maxRuns`).
   */
  sessionManager?: SessionManager;
  /** Namespace of the adapter's sessions. Default: the manager's namespace (`"default"`). */
  namespace?: string;
  /**
   * Receives every failure the adapter keeps away from your app (store outages, a failing callback
   * of yours), and the failures of the manager's background work when the adapter builds the
   * manager. Default: log the first failure of each operation.
   */
  onError?: ErrorHandler;
}

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
