import {
  type CloseRequest,
  type ItemsRequest,
  type KeyAtTimeRequest,
  type ResolvedSession,
  type ResolveRequest,
  SessionError,
  type SessionItemStore,
  type SessionKey,
  type SessionRecord,
  type SessionStore,
  type TouchRequest,
} from "@threadline/session-core";
import { encodeItems, storeUnavailableError } from "@threadline/session-core/store-kit";
import { bindingOption } from "./binding-option.js";
import type { DurableObjectNamespaceLike } from "./bindings.js";
import { assertKeyPrefix, sessionKey } from "./keys.js";
import { fromWire, OBJECT_ORIGIN, type ObjectRequest, type ObjectResponse, source } from "./protocol.js";

/** Options for {@link durableObjectStore}. */
export interface DurableObjectStoreOptions {
  /** The Durable Object namespace bound to {@link ThreadlineSessionObject}, e.g. `c.env.SESSION_OBJECTS`. */
  namespace: DurableObjectNamespaceLike;
  /**
   * Prepended to every object name, so apps sharing one binding stay apart. At most 128 bytes.
   * Default `"threadline:"`.
   */
  keyPrefix?: string;
}

/** The Durable Object store: a {@link SessionStore} with conversation items. All methods return promises. */
export interface DurableObjectStore extends SessionStore {
  resolve(request: ResolveRequest): Promise<ResolvedSession>;
  touch(request: TouchRequest): Promise<SessionRecord | null>;
  get(request: KeyAtTimeRequest): Promise<SessionRecord | null>;
  close(request: CloseRequest): Promise<boolean>;
  readonly items: SessionItemStore;
}

/**
 * Sessions in Durable Objects: one {@link ThreadlineSessionObject} per (namespace, user),
 * found with `idFromName`. Strictly consistent and atomic (`capabilities.atomic`): 20
 * concurrent first requests of one user from anywhere get one session id. Every renewal is
 * stored, expired sessions are deleted by an alarm, and conversation items live in the same
 * object (`items`). Each call is one request to the user's object.
 *
 * Cheap to build: make one per request from `c.env` if that is where the binding lives.
 *
 * @example
 * const sessions = new SessionManager({ store: durableObjectStore({ namespace: env.SESSION_OBJECTS }) });
 */
export function durableObjectStore(options: DurableObjectStoreOptions): DurableObjectStore {
  const namespace = bindingOption(options, {
    source,
    factory: "durableObjectStore",
    option: "namespace",
    example: "env.SESSION_OBJECTS",
    kind: "a Durable Object namespace binding of ThreadlineSessionObject (durable_objects and migrations in your wrangler config)",
    isBinding: isObjectNamespace,
  });
  const keyPrefix = options.keyPrefix ?? "threadline:";
  assertKeyPrefix(keyPrefix, source);

  async function call(key: SessionKey, request: ObjectRequest): Promise<unknown> {
    const name = await sessionKey(keyPrefix, key.namespace, key.userId);
    let status: number;
    let text: string;
    try {
      const stub = namespace.get(namespace.idFromName(name));
      const response = await stub.fetch(`${OBJECT_ORIGIN}${request.op}`, {
        method: "POST",
        body: JSON.stringify(request),
        headers: { "content-type": "application/json" },
      });
      status = response.status;
      text = await response.text();
    } catch (error) {
      throw storeUnavailableError(
        source,
        "reach the session's Durable Object",
        error,
        "check the binding in your wrangler config",
      );
    }
    const answer = parseResponse(text);
    if (answer === undefined) {
      throw new SessionError({
        code: "STORE_ERROR",
        source,
        message: `The Durable Object answered ${status} with something other than a session response. Check that the binding's class_name is ThreadlineSessionObject.`,
      });
    }
    if ("error" in answer) throw fromWire(answer.error);
    return answer.result;
  }

  const items: SessionItemStore = {
    async append(request: ItemsRequest, newItems: readonly unknown[]): Promise<void> {
      const encoded = encodeItems(newItems, source);
      await call(request, { op: "append", sessionId: request.sessionId, now: request.now, items: encoded });
    },
    async list(request: ItemsRequest, limit?: number): Promise<unknown[]> {
      const op = { op: "list", sessionId: request.sessionId, now: request.now, limit: limit ?? null } as const;
      const stored = (await call(request, op)) as string[];
      return stored.map((text) => JSON.parse(text) as unknown);
    },
    async pop(request: ItemsRequest): Promise<unknown> {
      const text = (await call(request, { op: "pop", sessionId: request.sessionId, now: request.now })) as
        | string
        | null;
      return text === null ? undefined : (JSON.parse(text) as unknown);
    },
    async clear(request: ItemsRequest): Promise<void> {
      await call(request, { op: "clear", sessionId: request.sessionId, now: request.now });
    },
  };

  return {
    specificationVersion: "v1",
    name: source,
    capabilities: { atomic: true, exactRenewal: true },
    items,

    async resolve(request: ResolveRequest): Promise<ResolvedSession> {
      // The object cannot call back into the Worker, so the id is proposed up front and
      // dropped when the session turns out to be live (the contract allows this).
      const candidate = request.proposeSessionId();
      const { namespace: sessionNamespace, userId, now, timeoutMs, forceNew } = request;
      const op = { op: "resolve", namespace: sessionNamespace, userId, now, timeoutMs, forceNew, candidate } as const;
      return (await call(request, op)) as ResolvedSession;
    },

    async touch(request: TouchRequest): Promise<SessionRecord | null> {
      return (await call(request, {
        op: "touch",
        now: request.now,
        timeoutMs: request.timeoutMs,
      })) as SessionRecord | null;
    },

    async get(request: KeyAtTimeRequest): Promise<SessionRecord | null> {
      return (await call(request, { op: "get", now: request.now })) as SessionRecord | null;
    },

    async close(request: CloseRequest): Promise<boolean> {
      return (await call(request, { op: "close", now: request.now, sessionId: request.sessionId ?? null })) as boolean;
    },
  } satisfies DurableObjectStore;
}

function isObjectNamespace(value: unknown): value is DurableObjectNamespaceLike {
  const namespace = value as Partial<DurableObjectNamespaceLike> | null | undefined;
  return typeof namespace?.idFromName === "function" && typeof namespace.get === "function";
}

function parseResponse(text: string): ObjectResponse | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === "object" && value !== null && ("result" in value || "error" in value)) {
      return value as ObjectResponse;
    }
  } catch {
    // Not JSON: reported by the caller with the status.
  }
  return undefined;
}
