export { SessionError, type SessionErrorCode, type SessionErrorOptions } from "./errors.js";
export { encodeItems } from "./items.js";
export { type MemoryStore, type MemoryStoreOptions, memoryStore } from "./memory-store.js";
export { distinctSessionId, type SessionIdContext, type SessionIdFormat } from "./session-id.js";
export {
  type CloseOptions,
  type ResolveOptions,
  type SessionInfo,
  SessionManager,
  type SessionManagerOptions,
} from "./session-manager.js";
export type {
  CloseRequest,
  ItemsRequest,
  KeyAtTimeRequest,
  ListPage,
  ListRequest,
  ResolvedSession,
  ResolveRequest,
  SessionItemStore,
  SessionKey,
  SessionRecord,
  SessionRef,
  SessionStore,
  StoreCapabilities,
  TouchRequest,
} from "./store.js";
export { assertValidId, MAX_ID_LENGTH } from "./validation.js";
