export type {
  DurableObjectIdLike,
  DurableObjectListOptionsLike,
  DurableObjectNamespaceLike,
  DurableObjectStateLike,
  DurableObjectStorageLike,
  DurableObjectStubLike,
  KVListResultLike,
  KVNamespaceLike,
  ResponseLike,
} from "./bindings.js";
export {
  type DurableObjectStore,
  type DurableObjectStoreOptions,
  durableObjectStore,
  EXPIRY_INDEX_SHARDS,
} from "./durable-object-store.js";
export { UNCLAIMED_END_WINDOW_MS } from "./expiry-index.js";
export { KV_MAX_KEY_BYTES, MAX_KEY_PREFIX_BYTES, sessionKey } from "./keys.js";
export {
  DEFAULT_RENEW_AFTER_SECONDS,
  KV_MIN_TTL_SECONDS,
  type KVStore,
  type KVStoreOptions,
  kvStore,
} from "./kv-store.js";
export { ThreadlineSessionObject } from "./session-object.js";
