import {
  type ResolvedSession,
  type SessionEndEvent,
  SessionError,
  type SessionErrorCode,
} from "@threadline/session-core";

// What the Durable Object store sends its object and gets back: JSON over the stub's fetch.
// Plain fetch rather than RPC, so the class needs no `cloudflare:workers` import and the
// package still loads on Node (where the KV store and Hono apps are tested).

/** Which sessions a per-user listing returns, as in `ListRequest.status`. */
export type ListStatus = "active" | "ended" | "all";

/**
 * A request to a session object. Times are ms since epoch on the Worker's clock (`now`),
 * durations in ms, as in the store contract; `null` stands for an omitted limit.
 */
export type ObjectRequest =
  | {
      op: "resolve";
      namespace: string;
      userId: string;
      now: number;
      timeoutMs: number;
      forceNew: boolean;
      /** The proposed id, made before the call: the object cannot call back into the Worker. */
      candidate: string;
      retentionMs: number;
      /** Keep an ended session's items this long for the next session (0: none); absent from older Workers. */
      carryOverMs?: number;
      maxDurationMs: number | null;
      maxTurns: number | null;
    }
  | { op: "touch"; now: number; timeoutMs: number }
  | { op: "get"; now: number }
  /** `sessionId` null: end whatever session is live. */
  | { op: "close"; now: number; sessionId: string | null; retentionMs: number; carryOverMs?: number }
  | { op: "forget"; now: number }
  /** The pair's sessions, newest first (the store pages them). */
  | { op: "sessions"; now: number; status: ListStatus; retentionMs: number }
  /** Claims the end of a session that ran out of time by `now` (a sweep's visit). */
  | { op: "claim"; now: number; retentionMs: number; carryOverMs?: number }
  /** Appends without bounds or operation id (the contract's plain `append`), as one group. */
  | { op: "append"; sessionId: string; now: number; items: string[] }
  /**
   * One atomic items change (`items.apply`). `maxItems`/`maxItemBytes` `null`: no bound (JSON has
   * no `Infinity`). `operationKey` is `operationId` as stored: the id itself, or a hash of a long one.
   */
  | {
      op: "apply";
      sessionId: string;
      now: number;
      change: WireItemsChange;
      operationId: string | null;
      operationKey: string | null;
      maxItems: number | null;
      maxItemBytes: number | null;
    }
  | { op: "list"; sessionId: string; now: number; limit: number | null }
  | { op: "pop"; sessionId: string; now: number }
  /**
   * Keeps a run record (`runs.add`): `text` is its JSON, `runKey` its run id as stored (the id
   * itself, or a hash of a long one, as `operationKey`). Answers the totals.
   */
  | { op: "run"; sessionId: string; now: number; maxRuns: number; runKey: string; text: string }
  /** Up to `limit` run records numbered after `after` (the page cursor), oldest first. */
  | { op: "runs"; sessionId: string; now: number; after: number; limit: number }
  | { op: "clear"; sessionId: string; now: number }
  // The expiry index (see expiry-index.ts): the same class, in objects of their own.
  /** The pair object `objectId` may have an end to claim at `dueAt`. */
  | { op: "watch"; now: number; objectId: string; dueAt: number }
  | { op: "unwatch"; now: number; objectId: string }
  /** Hands out up to `limit` pairs due by `now`, each leased for `leaseMs` so concurrent sweeps split them. */
  | { op: "take"; now: number; limit: number; leaseMs: number }
  /** What the sweep found at each pair it took: when to look again (`null`: never). */
  | { op: "settle"; now: number; visits: IndexVisit[] };

/** An items change as the Worker encoded it (`encodeItemsChange`): JSON texts and a fingerprint. */
export interface WireItemsChange {
  type: "append" | "replace-suffix" | "replace-all";
  /** The items to add (`items` or `replacement`). */
  texts: string[];
  /** `replace-suffix`: what the history must end with; `[]` otherwise. */
  expectedSuffix: string[];
  continuesGroup: boolean;
  fingerprint: string;
}

/** What the object answers to `resolve`: the session, with the carried items as JSON texts. */
export type WireResolvedSession = Omit<ResolvedSession, "carried"> & {
  carried?: { sessionId: string; texts: string[] };
};

/** What the object answers to `runs`: JSON texts, and the cursor of the next page (`null`: the last). */
export interface RunsAnswer {
  texts: string[];
  next: number | null;
}

/** One pair a sweep took from the expiry index and visited. */
export interface IndexVisit {
  objectId: string;
  /** The lease's token: a settle whose pair was watched again meanwhile is ignored. */
  token: string;
  dueAt: number | null;
}

/** What a pair object answers to `claim`. */
export interface ClaimResult {
  end: SessionEndEvent | null;
  /** When the pair may next have an end to claim (its live session's expiry); `null`: nothing to claim. */
  dueAt: number | null;
}

/** A `SessionError` on the wire: its fields, and the message without the `[threadline] [source]` tag. */
export interface WireError {
  code: SessionErrorCode;
  message: string;
  retryable: boolean;
}

/** The object's answer: a result, or a failure the store turns back into a `SessionError`. */
export type ObjectResponse = { result: unknown } | { error: WireError };

/** The `source` of every error of the Durable Object store, on either side of the stub. */
export const source = "durable-object";

/** `error` as the object sends it; anything but a `SessionError` is a `STORE_ERROR`. */
export function toWire(error: unknown): WireError {
  if (SessionError.isInstance(error)) {
    const message = error.message.replace(/^\[threadline\] (\[[^\]]*\] )?/, "");
    return { code: error.code, message, retryable: error.retryable };
  }
  const reason = error instanceof Error ? error.message : String(error);
  return { code: "STORE_ERROR", message: `The session object failed: ${reason}`, retryable: false };
}

/** The result in the object's answer, or the `SessionError` it sent, thrown as the store's own. */
export function readAnswer(status: number, text: string): unknown {
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch {
    // Not JSON: not our object; reported below.
  }
  if (typeof answer === "object" && answer !== null) {
    if ("error" in answer) {
      const { code, message, retryable } = answer.error as WireError;
      throw new SessionError({ code, source, message, retryable });
    }
    if ("result" in answer) return answer.result;
  }
  const message = `The Durable Object answered ${status} with something other than a session response. Check that the binding's class_name is ThreadlineSessionObject.`;
  throw new SessionError({ code: "STORE_ERROR", source, message });
}

/** The URL the store fetches; only the path (the operation) is read, for logs. */
export const OBJECT_ORIGIN = "https://threadline-session.internal/";

/** Whether `value` is a request this version of the object understands (a Worker on another version may send others). */
export function isObjectRequest(value: unknown): value is ObjectRequest {
  if (typeof value !== "object" || value === null) return false;
  const request = value as Record<string, unknown>;
  if (typeof request.now !== "number") return false;
  switch (request.op) {
    case "resolve":
      return (
        typeof request.namespace === "string" &&
        typeof request.userId === "string" &&
        typeof request.timeoutMs === "number" &&
        typeof request.forceNew === "boolean" &&
        typeof request.candidate === "string" &&
        typeof request.retentionMs === "number" &&
        isNumberOrMissing(request.carryOverMs) &&
        isNumberOrNull(request.maxDurationMs) &&
        isNumberOrNull(request.maxTurns)
      );
    case "touch":
      return typeof request.timeoutMs === "number";
    case "get":
    case "forget":
      return true;
    case "close":
      return (
        (request.sessionId === null || typeof request.sessionId === "string") &&
        typeof request.retentionMs === "number" &&
        isNumberOrMissing(request.carryOverMs)
      );
    case "sessions":
      return (
        (request.status === "active" || request.status === "ended" || request.status === "all") &&
        typeof request.retentionMs === "number"
      );
    case "claim":
      return typeof request.retentionMs === "number" && isNumberOrMissing(request.carryOverMs);
    case "append":
      return (
        typeof request.sessionId === "string" &&
        Array.isArray(request.items) &&
        request.items.every((item) => typeof item === "string")
      );
    case "apply":
      return (
        typeof request.sessionId === "string" &&
        isItemsChange(request.change) &&
        isStringOrNull(request.operationId) &&
        isStringOrNull(request.operationKey) &&
        (request.operationId === null) === (request.operationKey === null) &&
        isNumberOrNull(request.maxItems) &&
        isNumberOrNull(request.maxItemBytes)
      );
    case "list":
      return typeof request.sessionId === "string" && isNumberOrNull(request.limit);
    case "pop":
    case "clear":
      return typeof request.sessionId === "string";
    case "run":
      return (
        typeof request.sessionId === "string" &&
        isWholeNumber(request.maxRuns, 1) &&
        typeof request.runKey === "string" &&
        typeof request.text === "string"
      );
    case "runs":
      return (
        typeof request.sessionId === "string" && isWholeNumber(request.after, 0) && isWholeNumber(request.limit, 1)
      );
    case "watch":
      return typeof request.objectId === "string" && typeof request.dueAt === "number";
    case "unwatch":
      return typeof request.objectId === "string";
    case "take":
      return typeof request.limit === "number" && typeof request.leaseMs === "number";
    case "settle":
      return Array.isArray(request.visits) && request.visits.every(isVisit);
    default:
      return false;
  }
}

function isWholeNumber(value: unknown, min: number): boolean {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= min;
}

function isNumberOrNull(value: unknown): boolean {
  return value === null || typeof value === "number";
}

function isNumberOrMissing(value: unknown): boolean {
  return value === undefined || typeof value === "number";
}

function isStringOrNull(value: unknown): boolean {
  return value === null || typeof value === "string";
}

function isStrings(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === "string");
}

function isItemsChange(value: unknown): value is WireItemsChange {
  if (typeof value !== "object" || value === null) return false;
  const change = value as Record<string, unknown>;
  return (
    (change.type === "append" || change.type === "replace-suffix" || change.type === "replace-all") &&
    isStrings(change.texts) &&
    isStrings(change.expectedSuffix) &&
    typeof change.continuesGroup === "boolean" &&
    typeof change.fingerprint === "string"
  );
}

function isVisit(value: unknown): value is IndexVisit {
  if (typeof value !== "object" || value === null) return false;
  const visit = value as Record<string, unknown>;
  return typeof visit.objectId === "string" && typeof visit.token === "string" && isNumberOrNull(visit.dueAt);
}
