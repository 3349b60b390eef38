import { encodeItems } from "../items.js";
import type { ItemsRequest, SessionItemStore } from "../store.js";
import { encodeItemsChange } from "../store-kit/items-change.js";
import { sessionEndedError } from "../store-kit/store-errors.js";
import type { Entry } from "./entry.js";
import { SessionItems } from "./session-items.js";

const source = "memory";

/** Conversation items kept on the entry of their session, as JSON text. */
export function entryItems(liveSession: (request: ItemsRequest) => Entry | undefined): SessionItemStore {
  return {
    async append(request, newItems) {
      const entry = liveSession(request);
      if (entry === undefined) throw sessionEndedError(source, request.sessionId);
      const encoded = encodeItems(newItems, source);
      entry.items ??= new SessionItems();
      entry.items.appendUnbounded(encoded);
    },
    async apply(request, change) {
      const encoded = encodeItemsChange(change, source, request.operationId !== undefined);
      const entry = liveSession(request);
      if (entry === undefined) throw sessionEndedError(source, request.sessionId);
      entry.items ??= new SessionItems();
      return entry.items.apply(encoded, request.bounds, request.operationId);
    },
    async list(request, limit) {
      const stored = liveSession(request)?.items;
      if (stored === undefined) return [];
      return stored.last(limit).map((text) => JSON.parse(text) as unknown);
    },
    async pop(request) {
      const text = liveSession(request)?.items?.pop();
      return text === undefined ? undefined : (JSON.parse(text) as unknown);
    },
    async clear(request) {
      const entry = liveSession(request);
      if (entry) entry.items = undefined;
    },
  };
}
