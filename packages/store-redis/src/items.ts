import { randomUUID } from "node:crypto";
import { type ItemsRequest, SessionError, type SessionItemStore } from "@threadline/session-core";
import {
  encodeItems,
  encodeItemsChange,
  historyMismatch,
  itemsTooLarge,
  operationConflict,
  sessionEndedError,
} from "@threadline/session-core/store-kit";
import { source, unexpectedReply } from "./failures.js";
import { pairKeys } from "./keys.js";
import { readFlag, readItem, readItems, readLiveness } from "./replies.js";
import type { Runner, ScriptCall } from "./script-runner.js";
import { scripts } from "./scripts.js";

/** Items per script call of one append, and bytes: a longer batch is split over several calls in one MULTI/EXEC. */
const PART_ITEMS = 8_192;
const PART_BYTES = 8 * 1024 * 1024;
/** Lists never hold 2³² items, so any larger limit means "all" (and never reaches Redis as "1e+21"). */
const ALL = 2 ** 32;

export interface ItemStoreOptions {
  runner: Runner;
  keyPrefix: string;
  nowArgument: (now: number) => string;
  /** How long a session's items stay after it stopped being live (ms). */
  retentionMs: number;
}

/**
 * Conversation items as JSON text in a Redis list beside the session hash, under the same
 * hash tag (same Cluster slot). Every operation first checks the session is the pair's live
 * one, atomically with what it does, so a late write never lands in a newer conversation; the
 * list expires with the session and is deleted when the session ends or is replaced.
 */
export function redisItemStore(options: ItemStoreOptions): SessionItemStore {
  const { runner, keyPrefix, nowArgument } = options;
  const retention = String(options.retentionMs);
  const keysOf = (request: ItemsRequest) => {
    const keys = pairKeys(keyPrefix, request.namespace, request.userId);
    return [keys.session, keys.items, keys.operations];
  };

  return {
    async append(request, items) {
      // Encode everything before sending anything: a bad item (or a hole) stores none of the batch.
      const encoded = encodeItems(items, source);
      if (encoded.length === 0) return;
      const keys = keysOf(request);
      const now = nowArgument(request.now);
      const parts = split(encoded);
      let appended: boolean;
      if (parts.length === 1) {
        const args = [now, request.sessionId, retention, "", "only"];
        for (const item of encoded) args.push(item); // no spread: a batch can outgrow the call stack
        appended = readFlag(await runner.script(scripts.appendItems, keys, args), scripts.appendItems.name);
      } else {
        // Too long for one command: every part is a call of the same script, all in one
        // MULTI/EXEC, so nothing runs between them and the batch is stored whole or not at all
        // (the script explains how the parts agree on the liveness the first one decided).
        const token = randomUUID();
        const build = (call: ScriptCall) =>
          parts.map((part, index) => {
            const role = index === 0 ? "first" : index === parts.length - 1 ? "last" : "next";
            return call(scripts.appendItems, keys, [now, request.sessionId, retention, token, role, ...part]);
          });
        const replies = await runner.transaction(scripts.appendItems.name, keys[0] as string, build);
        appended = replies.every((reply) => readFlag(reply, scripts.appendItems.name));
      }
      if (!appended) throw sessionEndedError(source, request.sessionId);
    },

    async apply(request, change) {
      // The fingerprint is only kept (and so only worth computing) with an operation id.
      const encoded = encodeItemsChange(change, source, request.operationId !== undefined);
      const size = encoded.texts.length + encoded.expectedSuffix.length;
      const bytes = [...encoded.texts, ...encoded.expectedSuffix].reduce((sum, text) => sum + text.length, 0);
      if (size > PART_ITEMS || bytes > PART_BYTES) {
        throw new SessionError({
          code: "INVALID_ITEMS",
          source,
          message: `One items change holds at most ${PART_ITEMS} items and ${PART_BYTES} bytes of JSON (new items and expected suffix together) on Redis, got ${size} items (${bytes} characters). Nothing was stored; split it into appends that continue the group.`,
        });
      }
      const kind =
        encoded.type === "replace-all"
          ? "all"
          : encoded.type === "replace-suffix"
            ? "suffix"
            : encoded.continuesGroup
              ? "append+"
              : "append";
      const { maxItems, maxItemBytes } = request.bounds;
      const args = [
        nowArgument(request.now),
        request.sessionId,
        retention,
        request.operationId === undefined ? "" : `:${request.operationId}`,
        encoded.fingerprint,
        kind,
        Number.isFinite(maxItems) ? String(maxItems) : "",
        Number.isFinite(maxItemBytes) ? String(maxItemBytes) : "",
        String(encoded.expectedSuffix.length),
      ];
      // No spread: a change can outgrow the call stack.
      for (const text of encoded.expectedSuffix) args.push(text);
      for (const text of encoded.texts) args.push(text);
      const reply = await runner.script(scripts.applyItems, keysOf(request), args);
      const name = scripts.applyItems.name;
      if (!Array.isArray(reply) || reply.length === 0) throw unexpectedReply(name, reply);
      switch (String(reply[0])) {
        case "ok":
          return { applied: Number(reply[1]) === 1, trimmed: Number(reply[2]) };
        case "ended":
          throw sessionEndedError(source, request.sessionId);
        case "conflict":
          throw operationConflict(request.operationId as string, source);
        case "mismatch":
          throw historyMismatch(source);
        case "too-large":
          throw itemsTooLarge(Number(reply[1]), Number(reply[2]), request.bounds, source);
        default:
          throw unexpectedReply(name, reply);
      }
    },

    async list(request, limit) {
      if (limit !== undefined && !(limit >= ALL || (limit >= 0 && Number.isInteger(limit)))) {
        throw new SessionError({
          code: "INVALID_OPTION",
          source,
          message: `limit must be a whole number ≥ 0 (or Infinity for all), got ${limit}.`,
        });
      }
      if (limit === 0) return [];
      const [sessionKey, itemsKey] = keysOf(request) as [string, string];
      const now = nowArgument(request.now);
      const first = limit === undefined || limit >= ALL ? "0" : String(-limit);
      // No script: a script would copy the whole list into Lua and back, 5–7× the server CPU of
      // the LRANGE itself. Instead one MULTI/EXEC reads the server clock (unless the app's is
      // used), the session's id and liveness fields, and the items; nothing can run between
      // them, so the items are exactly those of the session at the moment it was read, and the
      // liveness verdict below is about that same moment. Both keys share the hash tag, so on a
      // cluster the transaction runs on the one node that owns the pair.
      const replies = await runner.transaction("items.list", itemsKey, () => [
        ...(now === "" ? [["TIME"]] : []),
        ["HMGET", sessionKey, "id", "last", "timeout"],
        ["LRANGE", itemsKey, first, "-1"],
      ]);
      const serverTime = now === "" ? replies[0] : undefined;
      const [record, items] = now === "" ? replies.slice(1) : replies;
      if (!readLiveness(record, request.sessionId, now === "" ? serverTime : Math.floor(request.now), "items.list"))
        return [];
      return readItems(items, "items.list");
    },

    async pop(request) {
      const reply = await runner.script(scripts.popItem, keysOf(request), [
        nowArgument(request.now),
        request.sessionId,
      ]);
      return readItem(reply, scripts.popItem.name);
    },

    async clear(request) {
      await runner.script(scripts.clearItems, keysOf(request), [nowArgument(request.now), request.sessionId]);
    },
  };
}

/** Splits encoded items into parts of at most PART_ITEMS items and about PART_BYTES bytes. */
function split(encoded: string[]): string[][] {
  if (encoded.length <= PART_ITEMS && encoded.reduce((total, item) => total + item.length, 0) <= PART_BYTES) {
    return [encoded];
  }
  const parts: string[][] = [];
  let part: string[] = [];
  let bytes = 0;
  for (const item of encoded) {
    if (part.length > 0 && (part.length === PART_ITEMS || bytes + item.length > PART_BYTES)) {
      parts.push(part);
      part = [];
      bytes = 0;
    }
    part.push(item);
    bytes += item.length;
  }
  parts.push(part);
  return parts;
}
