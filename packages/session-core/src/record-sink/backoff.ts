/**
 * Seconds to wait before attempt `attempt + 1` after attempt `attempt` failed: exponential backoff
 * with full jitter (a uniform draw in `[0, min(maxDelay, minDelay · 2^(attempt-1))]`), so many
 * processes retrying one receiver spread out instead of arriving together. A receiver's
 * `Retry-After` is a floor, cut to `maxDelay` so one answer cannot hold the sink for an hour.
 *
 * @param attempt the attempt that just failed, from 1
 * @param retryAfter seconds the receiver asked for, 0 when it did not
 * @param random a uniform draw in [0, 1)
 */
export function backoffDelay(
  attempt: number,
  options: { minDelay: number; maxDelay: number },
  retryAfter: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(options.maxDelay, options.minDelay * 2 ** (attempt - 1));
  return Math.max(random() * ceiling, Math.min(retryAfter, options.maxDelay));
}
