import { SessionError, type SessionErrorCode } from "@threadline/session-core";

// What the Durable Object store sends its object and gets back: JSON over the stub's fetch.
// Plain fetch rather than RPC, so the class needs no `cloudflare:workers` import and the
// package still loads on Node (where the KV store and Hono apps are tested).

/** A request to the session object. `now` and `timeoutMs` are in ms, as in the store contract. */
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
    }
  | { op: "touch"; now: number; timeoutMs: number }
  | { op: "get"; now: number }
  /** `sessionId` null: end whatever session is live. */
  | { op: "close"; now: number; sessionId: string | null }
  | { op: "append"; sessionId: string; now: number; items: string[] }
  | { op: "list"; sessionId: string; now: number; limit: number | null }
  | { op: "pop"; sessionId: string; now: number }
  | { op: "clear"; sessionId: string; now: number };

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
        typeof request.candidate === "string"
      );
    case "touch":
      return typeof request.timeoutMs === "number";
    case "get":
      return true;
    case "close":
      return request.sessionId === null || typeof request.sessionId === "string";
    case "append":
      return (
        typeof request.sessionId === "string" &&
        Array.isArray(request.items) &&
        request.items.every((item) => typeof item === "string")
      );
    case "list":
      return typeof request.sessionId === "string" && (request.limit === null || typeof request.limit === "number");
    case "pop":
    case "clear":
      return typeof request.sessionId === "string";
    default:
      return false;
  }
}
