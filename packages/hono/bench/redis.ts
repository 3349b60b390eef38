// The Redis scenario's server side: the threadline Redis store on an ioredis client, talking to
// the redis-server the benchmark started on a free loopback port (never the machine's 6379).
import type { SessionStore } from "@threadline/session-core";
import { redisStore } from "@threadline/store-redis";
import { Redis } from "ioredis";

/** The environment variable that hands the benchmark's Redis URL to the server process. */
export const REDIS_URL_VARIABLE = "THREADLINE_BENCH_REDIS_URL";

/** In the server process: the Redis store on the benchmark's Redis. */
export function redisStoreFromEnvironment(): { store: SessionStore; close(): Promise<void> } {
  const url = process.env[REDIS_URL_VARIABLE];
  if (url === undefined) throw new Error(`${REDIS_URL_VARIABLE} is not set`);
  const client = new Redis(url);
  return {
    store: redisStore({ client }),
    async close() {
      await client.quit();
    },
  };
}
