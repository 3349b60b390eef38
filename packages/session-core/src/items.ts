import { SessionError } from "./errors.js";
import { describeValue } from "./validation.js";

/**
 * Encodes conversation items as JSON text, all or nothing: the first item that is not a JSON
 * value (a function, `undefined`, a circular structure, a BigInt) fails the whole batch with
 * `INVALID_ITEMS`, so a store never keeps half of it. For store authors.
 *
 * @param source the store's name for the error message, e.g. `"redis"`
 */
export function encodeItems(items: readonly unknown[], source: string): string[] {
  if (!Array.isArray(items)) {
    throw new SessionError({
      code: "INVALID_ITEMS",
      source,
      message: `Conversation items must be an array, got ${describeValue(items)}. Nothing was stored.`,
    });
  }
  // A plain loop, not `map`: `map` skips the holes of a sparse array (`[1, , 3]`) and would keep them.
  const encoded = new Array<string>(items.length);
  for (let index = 0; index < items.length; index++) {
    if (!(index in items)) {
      throw new SessionError({
        code: "INVALID_ITEMS",
        source,
        message: `Conversation items must be a dense array; index ${index} is a hole (a sparse array such as [1, , 3]). Nothing was stored.`,
      });
    }
    encoded[index] = encodeItem(items[index], source);
  }
  return encoded;
}

function encodeItem(item: unknown, source: string): string {
  let text: string | undefined;
  let cause: unknown;
  try {
    text = JSON.stringify(item) as string | undefined;
  } catch (error) {
    cause = error; // circular structures, BigInt
  }
  if (text === undefined) {
    throw new SessionError({
      code: "INVALID_ITEMS",
      source,
      message: `Conversation items must be JSON-serializable values, got ${describeValue(item)}. Nothing was stored.`,
      cause,
    });
  }
  return text;
}
