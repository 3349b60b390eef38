import type { SessionStore } from "@threadline/session-core";

/**
 * The Redis store for the benchmark, once `@threadline/store-redis` is published in this
 * workspace. Until then the Redis scenario is skipped (see README, "Benchmark").
 */
export async function redisStoreFromEnvironment(): Promise<
  { store: SessionStore; close(): Promise<void> } | undefined
> {
  return undefined;
}
