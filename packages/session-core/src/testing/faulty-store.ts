import { SessionError, type SessionErrorCode } from "../errors.js";
import { memoryStore } from "../memory-store/index.js";
import type {
  ItemsChange,
  ItemsChangeRequest,
  SessionItemStore,
  SessionRunStore,
  SessionStore,
  SweepRequest,
} from "../store.js";

/** The operations a {@link FaultyStore} counts and can fail. */
export type FaultyOperation =
  | "resolve"
  | "touch"
  | "get"
  | "close"
  | "sweep"
  | "forget"
  | "list"
  | "items.append"
  | "items.list"
  | "items.pop"
  | "items.clear"
  | "items.apply"
  | "runs.add"
  | "runs.list";

/** How a {@link FaultyStore} fails. */
export interface FaultOptions {
  /** Fail only the next `times` calls, then work again. Default: every call until `recover()`. */
  times?: number;
  /**
   * What a failing call throws: a `SessionError` with this code (default `STORE_UNAVAILABLE`, as a
   * store reports an unreachable backend), or `"bare-error"` for a plain `Error`, as a buggy
   * store might throw.
   */
  code?: SessionErrorCode | "bare-error";
  /** Fail only these operations. Default: all of them. */
  operations?: readonly FaultyOperation[];
}

/** A store that wraps another and fails on command, for testing what adapters do when a store fails. */
export interface FaultyStore extends SessionStore {
  /** Makes calls fail: every call until {@link recover}, or the next `times` calls. */
  fail(options?: FaultOptions): void;
  /** Makes every call work again. */
  recover(): void;
  /**
   * Holds calls of the chosen operations (default: all) until the returned `release()` is called,
   * to catch work in flight (a background cleanup still running when a response is sent).
   */
  hold(options?: { operations?: readonly FaultyOperation[] }): () => void;
  /** How many calls each operation received, failed ones included. */
  readonly calls: Readonly<Record<FaultyOperation, number>>;
  /** The store it wraps. */
  readonly inner: SessionStore;
}

/**
 * Wraps `inner` (default: a new memory store) in a store that fails on command and counts calls.
 * The one failing-store fixture for every package's tests.
 *
 * @example
 * const store = faultyStore();
 * store.fail({ times: 2 }); // the next two calls reject with STORE_UNAVAILABLE
 */
export function faultyStore(inner: SessionStore = memoryStore()): FaultyStore {
  const calls: Record<FaultyOperation, number> = {
    resolve: 0,
    touch: 0,
    get: 0,
    close: 0,
    sweep: 0,
    forget: 0,
    list: 0,
    "items.append": 0,
    "items.list": 0,
    "items.pop": 0,
    "items.clear": 0,
    "items.apply": 0,
    "runs.add": 0,
    "runs.list": 0,
  };
  let held: { gate: Promise<void>; operations?: readonly FaultyOperation[] } | undefined;
  let failing:
    | { remaining: number; code: SessionErrorCode | "bare-error"; operations?: readonly FaultyOperation[] }
    | undefined;

  // Every call goes through here: count it, then fail or pass through. Async so that a failure
  // is always a rejection, as it is for a store doing I/O.
  async function call<T>(operation: FaultyOperation, work: () => T | Promise<T>): Promise<T> {
    calls[operation]++;
    if (held !== undefined && (held.operations === undefined || held.operations.includes(operation))) {
      await held.gate;
    }
    if (failing !== undefined && (failing.operations === undefined || failing.operations.includes(operation))) {
      const { code } = failing;
      if (--failing.remaining <= 0) failing = undefined;
      if (code === "bare-error") throw new Error("socket hang up");
      throw new SessionError({ code, source: "faulty", message: `The test store failed ${operation} on purpose.` });
    }
    return work();
  }

  const innerItems = inner.items;
  const items: SessionItemStore | undefined =
    innerItems === undefined
      ? undefined
      : {
          append: (request, newItems) => call("items.append", () => innerItems.append(request, newItems)),
          list: (request, limit) => call("items.list", () => innerItems.list(request, limit)),
          pop: (request) => call("items.pop", () => innerItems.pop(request)),
          clear: (request) => call("items.clear", () => innerItems.clear(request)),
          ...(innerItems.apply === undefined
            ? {}
            : {
                apply: (request: ItemsChangeRequest, change: ItemsChange) =>
                  call("items.apply", () =>
                    (innerItems.apply as NonNullable<SessionItemStore["apply"]>)(request, change),
                  ),
              }),
        };
  const { sweep, list, forget } = inner;
  const innerRuns = inner.runs;
  const runs: SessionRunStore | undefined =
    innerRuns === undefined
      ? undefined
      : {
          add: (request, record) => call("runs.add", () => innerRuns.add(request, record)),
          list: (request, page) => call("runs.list", () => innerRuns.list(request, page)),
        };

  return {
    specificationVersion: "v1",
    name: "faulty",
    capabilities: inner.capabilities,
    inner,
    calls,
    resolve: (request) => call("resolve", () => inner.resolve(request)),
    touch: (request) => call("touch", () => inner.touch(request)),
    get: (request) => call("get", () => inner.get(request)),
    close: (request) => call("close", () => inner.close(request)),
    ...(forget === undefined ? {} : { forget: (request) => call("forget", () => forget.call(inner, request)) }),
    ...(sweep === undefined
      ? {}
      : { sweep: (request: SweepRequest) => call("sweep", () => sweep.call(inner, request)) }),
    ...(list === undefined ? {} : { list: (request) => call("list", () => list.call(inner, request)) }),
    ...(items === undefined ? {} : { items }),
    ...(runs === undefined ? {} : { runs }),
    dispose: async () => inner.dispose?.(),
    fail(options = {}) {
      failing = {
        remaining: options.times ?? Number.POSITIVE_INFINITY,
        code: options.code ?? "STORE_UNAVAILABLE",
        ...(options.operations === undefined ? {} : { operations: options.operations }),
      };
    },
    recover() {
      failing = undefined;
    },
    hold(options = {}) {
      let release: () => void = () => {};
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      held = { gate, ...(options.operations === undefined ? {} : { operations: options.operations }) };
      return () => {
        held = undefined;
        release();
      };
    },
  };
}
