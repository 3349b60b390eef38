// Cloudflare's storage API takes at most 128 keys per put, get or delete (Miniflare does not enforce it).
export const KEYS_PER_CALL = 128;

/** `values` in runs of at most {@link KEYS_PER_CALL}, one storage call each. */
export function chunks<T>(values: T[]): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < values.length; start += KEYS_PER_CALL) {
    result.push(values.slice(start, start + KEYS_PER_CALL));
  }
  return result;
}
