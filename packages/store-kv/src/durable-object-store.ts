import type {
  CloseRequest,
  ItemsRequest,
  KeyAtTimeRequest,
  ResolvedSession,
  ResolveRequest,
  SessionItemStore,
  SessionKey,
  SessionRecord,
  SessionStore,
  TouchRequest,
} from "@threadline/session-core";
import { encodeItems, storeUnavailableError } from "@threadline/session-core/store-kit";
import { type BindingOption, bindingOption } from "./binding-option.js";
import type { DurableObjectNamespaceLike } from "./bindings.js";
import { assertKeyPrefix, sessionKey } from "./keys.js";
import { OBJECT_ORIGIN, type ObjectRequest, readAnswer, source } from "./protocol.js";

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

const bindingSpec: BindingOption<DurableObjectNamespaceLike> = {
  name: "namespace",
  call: "durableObjectStore({ namespace: env.SESSION_OBJECTS }) (in Hono: c.env.SESSION_OBJECTS)",
  kind: "a Durable Object namespace binding of ThreadlineSessionObject (durable_objects and migrations in your wrangler config)",
  isBinding: (value): value is DurableObjectNamespaceLike => {
    const namespace = value as Partial<DurableObjectNamespaceLike> | null | undefined;
    return typeof namespace?.idFromName === "function" && typeof namespace.get === "function";
  },
};

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
  const namespace = bindingOption(options, bindingSpec, source);
  const keyPrefix = options.keyPrefix ?? "threadline:";
  assertKeyPrefix(keyPrefix, source);

  /** Sends `request` to the key's object; its result, typed by the caller, or its error rethrown. */
  async function call<T>(key: SessionKey, request: ObjectRequest): Promise<T> {
    const name = await sessionKey(keyPrefix, key.namespace, key.userId);
    let response: { status: number; text: string };
    try {
      const stub = namespace.get(namespace.idFromName(name));
      const body = JSON.stringify(request);
      const answer = await stub.fetch(`${OBJECT_ORIGIN}${request.op}`, { method: "POST", body, headers: {} });
      response = { status: answer.status, text: await answer.text() };
    } catch (error) {
      const hint = "check the binding in your wrangler config";
      throw storeUnavailableError(source, "reach the session's Durable Object", error, hint);
    }
    return readAnswer(response.status, response.text) as T;
  }

  const decode = (text: string): unknown => JSON.parse(text);
  const items: SessionItemStore = {
    async append(request: ItemsRequest, newItems: readonly unknown[]): Promise<void> {
      const { sessionId, now } = request;
      await call(request, { op: "append", sessionId, now, items: encodeItems(newItems, source) });
    },
    async list(request: ItemsRequest, limit?: number): Promise<unknown[]> {
      const { sessionId, now } = request;
      return (await call<string[]>(request, { op: "list", sessionId, now, limit: limit ?? null })).map(decode);
    },
    async pop(request: ItemsRequest): Promise<unknown> {
      const text = await call<string | null>(request, { op: "pop", sessionId: request.sessionId, now: request.now });
      return text === null ? undefined : decode(text);
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
    // The object cannot call back into the Worker, so the id is proposed up front and dropped
    // when the session turns out to be live (the contract allows this).
    resolve(request) {
      const { namespace: sessionNamespace, userId, now, timeoutMs, forceNew } = request;
      const candidate = request.proposeSessionId();
      return call(request, { op: "resolve", namespace: sessionNamespace, userId, now, timeoutMs, forceNew, candidate });
    },
    touch: (request) => call(request, { op: "touch", now: request.now, timeoutMs: request.timeoutMs }),
    get: (request) => call(request, { op: "get", now: request.now }),
    close: (request) => call(request, { op: "close", now: request.now, sessionId: request.sessionId ?? null }),
  } satisfies DurableObjectStore;
}
