import { SessionError } from "./errors.js";
import { describe } from "./validation.js";

/**
 * Encodes conversation items as JSON text, all or nothing: the first item that is not a JSON
 * value (a function, `undefined`, a circular structure, a BigInt) fails the whole batch with
 * `INVALID_ITEMS`, so a store never keeps half of it. For store authors.
 *
 * @param source the store's name for the error message, e.g. `"redis"`
 */
export function encodeItems(items: readonly unknown[], source: string): string[] {
  return items.map((item) => {
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
        message: `Conversation items must be JSON-serializable values, got ${describe(item)}. Nothing was stored.`,
        cause,
      });
    }
    return text;
  });
}
