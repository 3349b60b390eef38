import { encodeItems, type ItemsRequest, SessionError, type SessionItemStore } from "@threadline/session-core";
import { source } from "./failures.js";
import { pairKeys } from "./keys.js";
import { readFlag, readItem, readItems } from "./replies.js";
import type { RunScript } from "./script-runner.js";
import { scripts } from "./scripts.js";

/**
 * Conversation items as JSON text in a Redis list beside the session hash, under the same
 * hash tag (same Cluster slot). Each operation is one script that first checks the session is
 * the pair's live one, so a late write never lands in a newer conversation; the list takes
 * the session's TTL on every write and renewal, and is deleted when the session ends or is
 * replaced.
 */
export function redisItemStore(
  run: RunScript,
  keyPrefix: string,
  nowArgument: (now: number) => string,
): SessionItemStore {
  const keysOf = (request: ItemsRequest) => {
    const keys = pairKeys(keyPrefix, request.namespace, request.userId);
    return [keys.session, keys.items];
  };

  return {
    async append(request, items) {
      // Encode everything before sending anything: a bad item stores none of the batch.
      const encoded = encodeItems(items, source);
      if (encoded.length === 0) return;
      const reply = await run(scripts.appendItems, keysOf(request), [
        nowArgument(request.now),
        request.sessionId,
        ...encoded,
      ]);
      if (!readFlag(reply, scripts.appendItems.name)) {
        throw new SessionError({
          code: "SESSION_ENDED",
          source,
          message: `Session ${request.sessionId} is not the live session of this user any more; its items were not stored. Resolve the session again and write to the new one.`,
        });
      }
    },

    async list(request, limit) {
      const args = [nowArgument(request.now), request.sessionId, limit === undefined ? "" : String(limit)];
      return readItems(await run(scripts.listItems, keysOf(request), args), scripts.listItems.name);
    },

    async pop(request) {
      const reply = await run(scripts.popItem, keysOf(request), [nowArgument(request.now), request.sessionId]);
      return readItem(reply, scripts.popItem.name);
    },

    async clear(request) {
      await run(scripts.clearItems, keysOf(request), [nowArgument(request.now), request.sessionId]);
    },
  };
}
