import { SessionError } from "../errors.js";
import { encodeItems } from "../items.js";
import type { ItemBounds, ItemsChange } from "../store.js";
import { describeValue } from "../validation.js";

/** An items change as a store applies it: JSON text and sizes, checked before anything changes. */
export interface EncodedItemsChange {
  type: ItemsChange["type"];
  /** The items to add (`items` or `replacement`), as JSON text. */
  texts: string[];
  /** UTF-8 bytes of each text. */
  bytes: number[];
  /** `replace-suffix`: the suffix the history must end with, as JSON text. */
  expectedSuffix: string[];
  continuesGroup: boolean;
  /** Identifies the change for operation ids: equal for equal changes, different otherwise (with overwhelming probability). */
  fingerprint: string;
}

/** Operation ids a store remembers per session, at least (the latest ones). */
export const MAX_OPERATIONS_PER_SESSION = 1000;

/**
 * Checks and encodes a change, all or nothing: a value that is not JSON fails the whole change
 * with `INVALID_ITEMS`, an unknown type with `INVALID_ITEMS` too. The fingerprint is computed
 * only when `withFingerprint` (there is an operation id to remember); otherwise it is `""`.
 * Items compare as JSON text, so `{ a, b }` and `{ b, a }` differ: callers that rebuild items
 * should keep key order stable.
 */
export function encodeItemsChange(change: ItemsChange, source: string, withFingerprint = true): EncodedItemsChange {
  if (typeof change !== "object" || change === null) {
    throw invalidChange(`an items change must be an object, got ${describeValue(change)}`, source);
  }
  let texts: string[];
  let expectedSuffix: string[] = [];
  if (change.type === "append" || change.type === "replace-all") {
    texts = encodeItems(change.items, source);
  } else if (change.type === "replace-suffix") {
    expectedSuffix = encodeItems(change.expectedSuffix, source);
    texts = encodeItems(change.replacement, source);
  } else {
    throw invalidChange(
      `unknown items change type ${describeValue((change as { type?: unknown }).type)}; use "append", "replace-suffix" or "replace-all"`,
      source,
    );
  }
  const continuesGroup = change.type === "append" && change.continuesGroup === true;
  return {
    type: change.type,
    texts,
    bytes: texts.map(utf8Length),
    expectedSuffix,
    continuesGroup,
    fingerprint: withFingerprint
      ? fingerprint([change.type, continuesGroup ? "1" : "0", ...expectedSuffix, "\u0000", ...texts])
      : "",
  };
}

/** The error for a group larger than the bounds by itself. */
export function itemsTooLarge(count: number, bytes: number, bounds: ItemBounds, source: string): SessionError {
  return new SessionError({
    code: "ITEMS_TOO_LARGE",
    source,
    message: `One group of ${count} items (${bytes} bytes) is larger than the session's bounds (maxItems ${bounds.maxItems}, maxItemBytes ${bounds.maxItemBytes}) by itself, so keeping it would drop it whole. Nothing was stored; raise the bounds or store less per turn.`,
  });
}

/** The error for an operation id reused with a different change. */
export function operationConflict(operationId: string, source: string): SessionError {
  return new SessionError({
    code: "OPERATION_CONFLICT",
    source,
    message: `Operation id ${describeValue(operationId)} was already applied to this session with a different change. Nothing was changed; use a new id for a new change.`,
  });
}

/** The error for a `replace-suffix` whose expected suffix is not the history's. */
export function historyMismatch(source: string): SessionError {
  return new SessionError({
    code: "HISTORY_MISMATCH",
    source,
    message:
      "The session's items do not end with the expected suffix (another writer changed them first). Nothing was changed; read the items again and retry.",
  });
}

/** UTF-8 length of a string, without an encoder (Workers and Node alike). */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code < 0x80) continue;
    if (code < 0x800) bytes += 1;
    else if (code >= 0xd800 && code <= 0xdbff) {
      bytes += 2; // a surrogate pair: 4 bytes for 2 code units
      index++;
    } else bytes += 2;
  }
  return bytes;
}

/** Two 32-bit FNV-1a lanes over the parts and their lengths: a 64-bit fingerprint as hex. */
function fingerprint(parts: readonly string[]): string {
  let low = 0x811c9dc5;
  let high = 0xcbf29ce4;
  const mix = (code: number) => {
    low = Math.imul(low ^ code, 0x01000193) >>> 0;
    high = Math.imul(high ^ (code + 0x9e37), 0x01000193) >>> 0;
  };
  for (const part of parts) {
    for (let index = 0; index < part.length; index++) mix(part.charCodeAt(index));
    mix(part.length & 0xffff);
    mix(0xffff);
  }
  return `${high.toString(16).padStart(8, "0")}${low.toString(16).padStart(8, "0")}`;
}

function invalidChange(message: string, source: string): SessionError {
  return new SessionError({ code: "INVALID_ITEMS", source, message: `${message}. Nothing was stored.` });
}
