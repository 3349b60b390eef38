export type { ErrorContext, ErrorHandler } from "./adapter-kit/error-sink.js";
export { globalSessionId } from "./adapter-kit/global-session-id.js";
export { SessionError, type SessionErrorCode, type SessionErrorOptions } from "./errors.js";
export type {
  CarryOver,
  CarryOverContext,
  ListSessionsOptions,
  SessionEndHandler,
  SessionList,
  SessionStartEvent,
  SessionStartHandler,
} from "./lifecycle.js";
export { type MemoryStore, type MemoryStoreOptions, memoryStore } from "./memory-store/index.js";
export {
  createRecordSink,
  type DeliverRecords,
  type DeliveryContext,
  type HttpFetch,
  type HttpRecordSinkOptions,
  type HttpRequestInit,
  type HttpResponse,
  httpRecordSink,
  RecordDeliveryError,
  type RecordDeliveryErrorOptions,
  type RecordSink,
  type RecordSinkOptions,
} from "./record-sink/index.js";
export type { HandoffRecord, RunMessage, RunRecord, RunUsage, ToolCallRecord } from "./run-record.js";
export type { SessionIdContext, SessionIdFormat } from "./session-id.js";
export {
  type AddItemsOptions,
  type CloseOptions,
  type ResolveOptions,
  type SessionInfo,
  SessionManager,
  type SessionManagerOptions,
} from "./session-manager.js";
export type {
  AddRunRequest,
  CarriedItems,
  CloseRequest,
  EndKeeping,
  ForgetRequest,
  ForgetResult,
  ItemBounds,
  ItemsChange,
  ItemsChangeRequest,
  ItemsChangeResult,
  ItemsRequest,
  KeyAtTimeRequest,
  LifecycleLimits,
  ListPage,
  ListRequest,
  MaybePromise,
  ResolvedSession,
  ResolveRequest,
  RunsPage,
  SessionEndEvent,
  SessionEndReason,
  SessionItemStore,
  SessionKey,
  SessionRecord,
  SessionRef,
  SessionRunStore,
  SessionStore,
  SessionSummary,
  SessionTotals,
  StoreCapabilities,
  SweepRequest,
  TouchRequest,
} from "./store.js";
export { assertValidId, MAX_ID_LENGTH } from "./validation.js";
