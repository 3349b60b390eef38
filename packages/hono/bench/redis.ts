// The Redis scenario: a redis-server of the benchmark's own on a free loopback port (never the
// machine's Redis on 6379), and the threadline Redis store on an ioredis client.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import type { SessionStore } from "@threadline/session-core";
import { redisStore } from "@threadline/store-redis";
import { Redis } from "ioredis";

/** The environment variable that hands the benchmark's Redis URL to the server process. */
export const REDIS_URL_VARIABLE = "THREADLINE_BENCH_REDIS_URL";

export interface BenchRedis {
  url: string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0));
    });
  });
}

/** Starts a throwaway redis-server (no persistence), or returns undefined when none is installed. */
export async function startRedisServer(): Promise<BenchRedis | undefined> {
  const port = await freePort();
  let child: ChildProcess;
  try {
    child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
      stdio: "ignore",
    });
    await Promise.race([
      once(child, "spawn"),
      once(child, "error").then(([error]) => {
        throw error;
      }),
    ]);
  } catch {
    return undefined; // redis-server is not installed
  }
  const url = `redis://127.0.0.1:${port}`;
  await waitUntilAnswering(url);
  return {
    url,
    async stop() {
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/** Polls until the new server answers PING (it needs a moment to open its port); gives up after 5 s. */
async function waitUntilAnswering(url: string): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    probe.on("error", () => {}); // refused connections are expected until the server is up
    try {
      await probe.connect();
      await probe.ping();
      await probe.quit();
      return;
    } catch {
      probe.disconnect();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`redis-server at ${url} did not start`);
}

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
