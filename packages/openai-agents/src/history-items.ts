// What SessionMemory writes: items in one canonical JSON form (keys sorted) so a compare-and-swap
// or an operation id never fails over key order, and history transactions checked as strictly as
// the SDK's own MemorySession checks them, before anything is stored or remembered.
import { type AgentInputItem, protocol } from "@openai/agents";
import { SessionError } from "@threadline/session-core";
import { source } from "./options.js";

/** The transaction kinds of the SDK's `SessionHistoryTransaction` (`@openai/agents` ≥ 0.20). */
export type HistoryTransaction =
  | { type: "append_items"; items: AgentInputItem[] }
  | { type: "replace_suffix"; expectedSuffix: AgentInputItem[]; replacement: AgentInputItem[] };

/** The SDK's `SessionHistoryTransactionArgs`: a change and the id that makes it idempotent. */
export interface HistoryTransactionArgs {
  /** Non-empty, and the same each time the runner retries this change. */
  operationId: string;
  transaction: HistoryTransaction;
}

/** The SDK's `SessionHistoryMutation` (`replace_function_call`, the only kind in 0.20). */
export interface HistoryMutation {
  type: "replace_function_call";
  callId: string;
  replacement: Extract<AgentInputItem, { type: "function_call" }>;
}

/** The SDK's `SessionHistoryRewriteArgs`. */
export interface HistoryMutationArgs {
  mutations: HistoryMutation[];
}

/**
 * A JSON value with object keys in sorted order, as `JSON.stringify` would see it (`toJSON`
 * applied, `undefined`, functions and symbols dropped from objects). Stored items and expected
 * suffixes both take this form, so the store's text comparison is a structural one.
 */
export function canonical(value: unknown): unknown {
  if (value === null || typeof value !== "object") return value;
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === "function") return canonical(toJSON.call(value));
  if (Array.isArray(value)) return value.map(canonical);
  const record = value as Record<string, unknown>;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(record).sort()) {
    const entry = record[key];
    if (entry === undefined || typeof entry === "function" || typeof entry === "symbol") continue;
    sorted[key] = canonical(entry);
  }
  return sorted;
}

/** {@link canonical} for a list of items. */
export function canonicalItems(items: readonly unknown[]): AgentInputItem[] {
  return items.map(canonical) as AgentInputItem[];
}

/**
 * Whether a batch of items starts a new turn, and so a new group that trimming may drop whole: it
 * begins with an input message (user, system, developer). Anything else (model output, tool calls
 * and their results, reasoning) belongs to the turn before it.
 */
export function startsTurn(items: readonly AgentInputItem[]): boolean {
  const first = items[0] as { type?: unknown; role?: unknown } | undefined;
  if (first === undefined || (first.type !== undefined && first.type !== "message")) return false;
  return first.role === "user" || first.role === "system" || first.role === "developer";
}

const INVALID_ARGS = "Session history transaction arguments are invalid.";
const INVALID_DATA = "Session history transaction items contain invalid or unsupported data.";

/**
 * Reads the runner's transaction arguments once (accessors run once, their errors are not echoed)
 * and checks them as the SDK's `MemorySession` does: a non-empty operation id, exactly the fields
 * of a known transaction type, and items that are SDK model items made of plain data (no Dates,
 * BigInts, cycles, hidden properties, proxies or typed arrays other than `Uint8Array`). Throws
 * `INVALID_ITEMS` without the items' content in the message; nothing is stored or remembered then.
 */
export function checkedTransaction(args: unknown): HistoryTransactionArgs {
  let operationId: unknown;
  let transaction: unknown;
  try {
    if (typeof args !== "object" || args === null) throw new Error("no arguments");
    operationId = Reflect.get(args, "operationId");
    transaction = Reflect.get(args, "transaction");
  } catch {
    throw invalid(INVALID_ARGS);
  }
  if (typeof operationId !== "string" || operationId.trim().length === 0) {
    throw invalid("Session history transaction operationId must be a non-empty string.");
  }
  if (typeof transaction !== "object" || transaction === null) {
    throw invalid("Session history transaction must be an object.");
  }
  let snapshot: Record<string, unknown>;
  try {
    snapshot = plainData(transaction) as Record<string, unknown>;
    // Rejects what only structuredClone sees, such as a Proxy around the items.
    structuredClone(transaction);
  } catch {
    throw invalid(INVALID_DATA);
  }
  const hasExactly = (...fields: string[]) =>
    Object.keys(snapshot).length === fields.length && fields.every((field) => Object.hasOwn(snapshot, field));
  if (snapshot.type === "append_items") {
    if (!hasExactly("type", "items") || !Array.isArray(snapshot.items)) {
      throw invalid("Session history append transaction fields are invalid.");
    }
    return { operationId, transaction: { type: "append_items", items: modelItems(snapshot.items) } };
  }
  if (snapshot.type !== "replace_suffix") throw invalid("Unsupported session history transaction type.");
  if (
    !hasExactly("type", "expectedSuffix", "replacement") ||
    !Array.isArray(snapshot.expectedSuffix) ||
    !Array.isArray(snapshot.replacement)
  ) {
    throw invalid("Session history suffix transaction fields are invalid.");
  }
  return {
    operationId,
    transaction: {
      type: "replace_suffix",
      expectedSuffix: modelItems(snapshot.expectedSuffix),
      replacement: modelItems(snapshot.replacement),
    },
  };
}

function modelItems(items: unknown[]): AgentInputItem[] {
  for (const item of items) {
    if (!protocol.ModelItem.safeParse(item).success) throw invalid(INVALID_DATA);
  }
  return canonicalItems(items);
}

/** A copy of `value` if it is plain data (the SDK's rules), else a throw. */
function plainData(value: unknown, ancestors = new WeakSet<object>()): unknown {
  if (value === null || value === undefined) return value;
  const kind = typeof value;
  if (kind === "string" || kind === "boolean" || kind === "number") return value;
  if (kind !== "object") throw new Error("unsupported value");
  const object = value as object;
  if (object instanceof Uint8Array) {
    const keys = Reflect.ownKeys(object);
    if (keys.length !== object.length || keys.some((key) => typeof key !== "string" || !isIndex(key, object.length))) {
      throw new Error("unsupported binary property");
    }
    return new Uint8Array(object); // a copy, so later writes to a shared buffer change nothing stored
  }
  if (ancestors.has(object)) throw new Error("cycle");
  ancestors.add(object);
  try {
    if (Array.isArray(object)) {
      const length = object.length;
      const keys = Reflect.ownKeys(object);
      if (
        keys.length !== length + 1 ||
        keys.some((key) => typeof key !== "string" || (key !== "length" && !isIndex(key, length)))
      ) {
        throw new Error("unsupported array"); // sparse, or with extra properties
      }
      return Array.from({ length }, (_, index) => {
        const descriptor = Object.getOwnPropertyDescriptor(object, String(index));
        if (!descriptor?.enumerable || !("value" in descriptor)) throw new Error("unsupported array item");
        return plainData(descriptor.value, ancestors);
      });
    }
    const prototype = Object.getPrototypeOf(object);
    if (prototype !== Object.prototype && prototype !== null) throw new Error("unsupported object");
    const copy: Record<string, unknown> = {};
    for (const key of Reflect.ownKeys(object)) {
      const descriptor = typeof key === "string" ? Object.getOwnPropertyDescriptor(object, key) : undefined;
      if (typeof key !== "string" || !descriptor?.enumerable || !("value" in descriptor)) {
        throw new Error("unsupported property");
      }
      copy[key] = plainData(descriptor.value, ancestors);
    }
    return copy;
  } finally {
    ancestors.delete(object);
  }
}

function isIndex(key: string, length: number): boolean {
  if (!/^(0|[1-9]\d*)$/.test(key)) return false;
  const index = Number(key);
  return Number.isSafeInteger(index) && index < length;
}

function invalid(message: string): SessionError {
  return new SessionError({ code: "INVALID_ITEMS", source, message });
}

/**
 * The SDK's `replace_function_call` mutations applied to `items` (the first function call with
 * the id becomes the replacement, later ones with the id go), as the change of the shortest
 * suffix: `start` is where the changed suffix begins, `replacement` what it becomes. `undefined`
 * when no mutation matches anything.
 */
export function mutatedSuffix(
  items: readonly AgentInputItem[],
  mutations: readonly HistoryMutation[],
): { start: number; replacement: AgentInputItem[] } | undefined {
  let next: AgentInputItem[] = [...items];
  let start = Number.POSITIVE_INFINITY;
  for (const mutation of mutations) {
    if (mutation?.type !== "replace_function_call") continue;
    const isCall = (item: AgentInputItem) => item.type === "function_call" && item.callId === mutation.callId;
    const first = next.findIndex(isCall);
    if (first < 0) continue;
    start = Math.min(start, first);
    const replacement = canonical(mutation.replacement) as AgentInputItem;
    next = [...next.slice(0, first), replacement, ...next.slice(first + 1).filter((item) => !isCall(item))];
  }
  return start === Number.POSITIVE_INFINITY ? undefined : { start, replacement: next.slice(start) };
}
