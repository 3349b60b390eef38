import { encodeItems } from "../items.js";
import type { ItemsRequest, SessionItemStore } from "../store.js";
import { sessionEndedError } from "../store-kit/store-errors.js";
import type { Entry } from "./entry.js";

const source = "memory";

/** Conversation items kept on the entry of their session, as JSON text. */
export function entryItems(liveSession: (request: ItemsRequest) => Entry | undefined): SessionItemStore {
  return {
    async append(request, newItems) {
      const entry = liveSession(request);
      if (entry === undefined) throw sessionEndedError(source, request.sessionId);
      const encoded = encodeItems(newItems, source);
      if (entry.items === undefined) {
        entry.items = encoded;
        return;
      }
      // A loop, not push(...encoded): spreading 100k+ arguments overflows the stack.
      for (const text of encoded) entry.items.push(text);
    },
    async list(request, limit) {
      const stored = liveSession(request)?.items;
      if (stored === undefined) return [];
      const selected = limit === undefined ? stored : stored.slice(Math.max(0, stored.length - limit));
      return selected.map((text) => JSON.parse(text) as unknown);
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
