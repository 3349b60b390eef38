import { type RunRecord, SessionError } from "@threadline/session-core";
import {
  type AdapterManagerOptions,
  DEFAULT_MAX_TOOL_CALLS_PER_RUN,
  DEFAULT_MAX_VALUE_LENGTH,
} from "@threadline/session-core/adapter-kit";

/** Options for {@link ThreadlineCallbackHandler}. */
export interface ThreadlineCallbackHandlerOptions extends AdapterManagerOptions {
  /**
   * Receives one record per root run, after the run ended and its session was renewed. May be
   * async; `flush()` waits for it. A throw or rejection goes to `onError`, never into the chain.
   */
  onRecord?: (record: RunRecord) => void | Promise<void>;
  /**
   * Keep each root run's record with its session (`sessionManager.addRunRecord`), so the session's
   * totals (`getSessionInfo(userId).totals`) and its records (`listRunRecords(session)`) follow
   * every run without code of yours. Runs after `onRecord` is called, in the background: never in
   * the chain's way, never failing it; a failure goes to `onError` (operation `"keepRecord"`), and
   * `flush()` waits for it. A run without a session (the store was down) is not kept. Needs a store
   * that keeps run records (`store.runs`: the memory, Redis and Durable Object stores); any other
   * throws `INVALID_OPTION` when the handler is built. Default `false`.
   */
  keepRunRecords?: boolean;
  /**
   * Whether LangChain awaits this handler's callbacks. Default: LangChain's default (background
   * unless `LANGCHAIN_CALLBACKS_BACKGROUND=false`). Store work never blocks the chain either way.
   */
  awaitHandlers?: boolean;
  /**
   * Root runs the handler follows at once. A run that never ends (an abandoned `stream()`) is
   * dropped, oldest first, when more start, and reported to `onError` (operation `"evict"`). Default 1,000.
   */
  maxRunsInFlight?: number;
  /** Tool calls kept per run record; later ones are left out. Default 50. */
  maxToolCallsPerRun?: number;
  /**
   * Messages kept per run record (`messages`, the newest; older ones are left out), and model
   * names (`models`, the first). Default 50.
   */
  maxMessagesPerRun?: number;
  /**
   * Longest input, output or tool value kept in a record, in characters of its JSON. A longer one
   * is kept as the first `maxValueLength` characters of its JSON and a note. Default 16,384.
   */
  maxValueLength?: number;
}

/** How much one handler holds, at most: runs in flight and the parts of each. */
export type RunLimits = Required<
  Pick<
    ThreadlineCallbackHandlerOptions,
    "maxRunsInFlight" | "maxToolCallsPerRun" | "maxMessagesPerRun" | "maxValueLength"
  >
>;

const defaultLimits: RunLimits = {
  maxRunsInFlight: 1_000,
  maxToolCallsPerRun: DEFAULT_MAX_TOOL_CALLS_PER_RUN,
  maxMessagesPerRun: 50,
  maxValueLength: DEFAULT_MAX_VALUE_LENGTH,
};

/** The handler's limits, defaults filled in; `INVALID_OPTION` for anything but a whole number ≥ 1. */
export function runLimitsFrom(options: ThreadlineCallbackHandlerOptions): RunLimits {
  const limits = { ...defaultLimits };
  for (const name of Object.keys(defaultLimits) as (keyof RunLimits)[]) {
    const value = options[name];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new SessionError({
        code: "INVALID_OPTION",
        source: "langchain",
        message: `${name} must be a whole number ≥ 1, got ${typeof value === "number" ? value : typeof value}. Omit it for the default (${defaultLimits[name]}).`,
      });
    }
    limits[name] = value;
  }
  return limits;
}
