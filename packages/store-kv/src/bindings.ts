// The few parts of the Cloudflare runtime the stores use, as structural types. A binding from
// `@cloudflare/workers-types` (`KVNamespace`, `DurableObjectNamespace`, `DurableObjectState`)
// fits them, and the package needs no Cloudflare types at install time.

/** A Workers KV namespace binding (`env.SESSIONS` typed as `KVNamespace`). Only these methods are used. */
export interface KVNamespaceLike {
  get(key: string, type: "text"): Promise<string | null>;
  put(key: string, value: string, options?: { expirationTtl?: number; metadata?: unknown }): Promise<void>;
  list(options?: { prefix?: string | null; limit?: number; cursor?: string | null }): Promise<KVListResultLike>;
  delete(key: string): Promise<void>;
}

/** What `KVNamespace.list` returns, as far as the KV store reads it. */
export interface KVListResultLike {
  keys: ReadonlyArray<{ name: string; metadata?: unknown }>;
  list_complete: boolean;
  cursor?: string;
}

/** A Durable Object id, as returned by `idFromName`. */
export interface DurableObjectIdLike {
  toString(): string;
}

/** The part of a Durable Object stub the store calls. */
export interface DurableObjectStubLike {
  fetch(input: string, init: { method: string; body: string; headers: Record<string, string> }): Promise<ResponseLike>;
}

/** The part of a `Response` the store reads. */
export interface ResponseLike {
  readonly status: number;
  text(): Promise<string>;
}

/** A Durable Object namespace binding (`env.SESSION_OBJECTS` typed as `DurableObjectNamespace`). */
export interface DurableObjectNamespaceLike {
  idFromName(name: string): DurableObjectIdLike;
  /** The id `toString()` gave; the expiry index names pair objects this way, never by user. */
  idFromString(id: string): DurableObjectIdLike;
  get(id: DurableObjectIdLike): DurableObjectStubLike;
}

/** The Durable Object storage API (the key-value one, present on SQLite- and KV-backed objects). */
export interface DurableObjectStorageLike {
  get<T = unknown>(key: string): Promise<T | undefined>;
  list<T = unknown>(options?: DurableObjectListOptionsLike): Promise<Map<string, T>>;
  put<T>(entries: Record<string, T>): Promise<void>;
  delete(keys: string[]): Promise<number>;
  deleteAll(): Promise<void>;
  getAlarm(): Promise<number | null>;
  setAlarm(scheduledTime: number): Promise<void>;
  deleteAlarm(): Promise<void>;
}

/** The options of `DurableObjectStorage.list` the objects use; `end` is exclusive. */
export interface DurableObjectListOptionsLike {
  prefix?: string;
  start?: string;
  end?: string;
  reverse?: boolean;
  limit?: number;
}

/** What the runtime passes to a Durable Object's constructor, as far as the session object uses it. */
export interface DurableObjectStateLike {
  readonly storage: DurableObjectStorageLike;
  blockConcurrencyWhile<T>(callback: () => Promise<T>): Promise<T>;
}
